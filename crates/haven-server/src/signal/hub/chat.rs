//! The call's chat, owned by the hub for the life of the room: a message goes to everyone
//! in the call at that moment (the sender included) and to nobody waiting or on hold;
//! someone admitted later sees only what is said from then on. The chat lives in memory,
//! bounded, and is discarded when the room ends unless a clinician chose to keep it with
//! the consultation's record (`chat_keep`, when the organisation's policy allows), in
//! which case what was said so far is saved at once and the rest when the room ends,
//! audited with the number of messages, never their text.

use std::collections::BTreeMap;

use haven_domain::audit::Actor;
use haven_domain::chat::{ChatText, ChatTextError, RATE_MESSAGES, RATE_WINDOW, SendRate};
use haven_domain::time::OffsetDateTime;
use haven_domain::time::format_description::well_known::Rfc3339;
use haven_domain::{AttendeeId, UserId};
use haven_store::audit::NewAudit;
use haven_store::record::ChatLine;

use super::{Hub, RoomKind, Stage, Who};
use crate::media::ParticipantId;
use crate::signal::protocol::{ChatFileInfo, ErrorCode, ServerMsg};

/// The most messages one call's chat holds (files included): with the rate limit, hours
/// of conversation, and a bound on the memory a room can take.
pub(super) const MAX_LINES: usize = 1000;

/// What the notice says when a clinician keeps the chat.
const KEPT_TEXT: &str = "The clinician is keeping this chat with the consultation record.";

/// One message, as sent.
struct Line {
    seq: u64,
    /// The sender's attendee record or staff account, for the record.
    attendee: Option<AttendeeId>,
    user: Option<UserId>,
    name: String,
    sent_at: OffsetDateTime,
    /// The text; for a shared file, a sentence naming it (its bytes are never kept).
    text: String,
}

/// The choice to keep the chat with the record.
struct Keep {
    /// The clinician who chose it: the actor of every save.
    by: UserId,
    /// The record's next free place, read at the first save (a room opened again for the
    /// same consultation adds after what an earlier room saved).
    base: Option<i64>,
    /// The last message saved.
    saved_upto: u64,
}

/// The chat of one room.
#[derive(Default)]
pub(super) struct Chat {
    lines: Vec<Line>,
    rates: BTreeMap<ParticipantId, SendRate>,
    /// Each sender's name as shown, looked up once.
    names: BTreeMap<ParticipantId, String>,
    keep: Option<Keep>,
}

impl Chat {
    /// The `chat_kept` notice, when the chat is being kept.
    pub(super) fn kept_notice(&self) -> Option<ServerMsg> {
        self.keep.as_ref().map(|k| ServerMsg::ChatKept {
            saved: k.saved_upto,
            text: KEPT_TEXT.to_owned(),
        })
    }
}

impl Hub {
    /// A chat message from `id`: checked, then sent to everyone in the call.
    pub(super) async fn chat(&mut self, id: ParticipantId, raw: String) {
        if self.members.get(&id).map(|m| m.stage) != Some(Stage::Admitted) {
            return self.refuse(
                id,
                ErrorCode::NotInCall,
                "chat is for people in the call; you can send messages once you are in the call",
            );
        }
        let text = match ChatText::parse(&raw) {
            Ok(text) => text,
            Err(e) => {
                let code = match e {
                    ChatTextError::Empty => ErrorCode::ChatEmpty,
                    ChatTextError::TooLong(_) => ErrorCode::ChatTooLong,
                };
                return self.refuse(id, code, &e.to_string());
            }
        };
        if self.chat_full(id) {
            return;
        }
        let now = self.live.clock.now();
        if let Err(wait) = self.chat.rates.entry(id).or_default().try_send(now) {
            let seconds = wait.whole_seconds().max(1);
            return self.refuse(
                id,
                ErrorCode::ChatRateLimited,
                &format!(
                    "you can send {RATE_MESSAGES} messages every {} seconds; wait {seconds} \
                     seconds, then send it again",
                    RATE_WINDOW.whole_seconds()
                ),
            );
        }
        let link = text.has_link();
        self.post(id, text.as_str().to_owned(), link, None, now)
            .await;
    }

    /// Whether the chat can take no more messages (and `id` has been told).
    pub(super) fn chat_full(&self, id: ParticipantId) -> bool {
        let full = self.chat.lines.len() >= MAX_LINES;
        if full {
            self.refuse(
                id,
                ErrorCode::ChatFull,
                &format!("this call's chat has reached {MAX_LINES} messages; no more can be sent"),
            );
        }
        full
    }

    /// Adds a message to the chat and sends it to everyone in the call.
    pub(super) async fn post(
        &mut self,
        id: ParticipantId,
        text: String,
        link: bool,
        file: Option<ChatFileInfo>,
        now: OffsetDateTime,
    ) {
        let name = self.sender_name(id).await;
        let Some(member) = self.members.get(&id) else {
            return;
        };
        let (attendee, user) = match &member.who {
            Who::Attendee(a) => (Some(a.clone()), None),
            Who::Host(u) => (None, Some(u.clone())),
            Who::Seat(_) => (None, None),
        };
        let seq = self.chat.lines.len() as u64 + 1;
        let msg = ServerMsg::Chat {
            seq,
            from: id.to_string(),
            name: name.clone(),
            // A UTC time always formats as RFC 3339.
            sent_at: now.format(&Rfc3339).unwrap_or_default(),
            text: text.clone(),
            link,
            file,
        };
        self.chat.lines.push(Line {
            seq,
            attendee,
            user,
            name,
            sent_at: now,
            text,
        });
        for m in self.members.values() {
            if let (Stage::Admitted, Some(c)) = (m.stage, &m.conn) {
                c.send(msg.clone());
            }
        }
    }

    /// The name `id` is shown by: in a group, the name shown to the group; otherwise
    /// staff by their name, invited people by their first name, test room guests as
    /// "Guest".
    async fn sender_name(&mut self, id: ParticipantId) -> String {
        if let Some(name) = self.chat.names.get(&id) {
            return name.clone();
        }
        if let Some(names) = self.members.get(&id).and_then(|m| m.names.as_ref()) {
            // Everyone in a group reads the chat, so it carries no more than the name
            // the group knows.
            let name = names.for_viewer(false).to_owned();
            self.chat.names.insert(id, name.clone());
            return name;
        }
        let Some(who) = self.members.get(&id).map(|m| m.who.clone()) else {
            return String::new();
        };
        let store = &self.live.store;
        let name = match (&self.kind, who) {
            (RoomKind::Consultation { org, .. }, Who::Host(user)) => store
                .user(org, &user)
                .await
                .map(|u| u.name.as_str().to_owned())
                .ok(),
            (RoomKind::Consultation { org, .. }, Who::Attendee(attendee)) => store
                .attendee(org, &attendee)
                .await
                .ok()
                .and_then(|a| a.name.as_str().split(' ').next().map(str::to_owned)),
            (RoomKind::Test { .. }, Who::Host(_)) => Some("Host".to_owned()),
            _ => None,
        };
        let name = name.unwrap_or_else(|| "Guest".to_owned());
        self.chat.names.insert(id, name.clone());
        name
    }

    /// A clinician keeps the chat with the record: allowed by the organisation's policy,
    /// saved so far at once, and everyone in the call told.
    pub(super) async fn chat_keep(&mut self, id: ParticipantId) {
        let (RoomKind::Consultation { org, .. }, Some(Who::Host(user))) =
            (&self.kind, self.members.get(&id).map(|m| &m.who))
        else {
            return self.refuse(
                id,
                ErrorCode::NotHost,
                "only a clinician in a consultation may keep its chat with the record",
            );
        };
        let allowed = match self.live.store.org(org).await {
            Ok(o) => o.policy.chat_retained,
            Err(e) => {
                tracing::error!(room = %self.id, error = %e, "reading the policy failed");
                return self.refuse(
                    id,
                    ErrorCode::SaveFailed,
                    "the chat could not be saved just now; try again",
                );
            }
        };
        if !allowed {
            return self.refuse(
                id,
                ErrorCode::NotAllowed,
                "your organisation's policy does not allow keeping chat; it is discarded when the consultation ends",
            );
        }
        if self.chat.keep.is_none() {
            self.chat.keep = Some(Keep {
                by: user.clone(),
                base: None,
                saved_upto: 0,
            });
        }
        if let Err(e) = self.save_chat().await {
            tracing::error!(room = %self.id, error = %e, "saving the chat failed");
            return self.refuse(
                id,
                ErrorCode::SaveFailed,
                "the chat could not be saved just now; try again",
            );
        }
        if let Some(notice) = self.chat.kept_notice() {
            for m in self.members.values() {
                if let (Stage::Admitted, Some(c)) = (m.stage, &m.conn) {
                    c.send(notice.clone());
                }
            }
        }
    }

    /// Writes the messages not yet saved to the record, if the chat is kept, with an
    /// audit entry counting them.
    pub(super) async fn save_chat(&mut self) -> Result<(), haven_store::Error> {
        let (RoomKind::Consultation { org, id }, Some(keep)) = (&self.kind, &mut self.chat.keep)
        else {
            return Ok(());
        };
        let store = &self.live.store;
        let first = keep.base.is_none();
        let base = match keep.base {
            Some(base) => base,
            None => {
                let saved = store.saved_chat(org, id).await?;
                let base = saved.last().map_or(0, |l| l.seq + 1);
                keep.base = Some(base);
                base
            }
        };
        let lines: Vec<ChatLine> = self
            .chat
            .lines
            .iter()
            .filter(|l| l.seq > keep.saved_upto)
            .map(|l| ChatLine {
                seq: base + i64::try_from(l.seq).unwrap_or(i64::MAX - base) - 1,
                sender_attendee: l.attendee.clone(),
                sender_user: l.user.clone(),
                sender_name: l.name.clone(),
                sent_at: l.sent_at,
                body: l.text.clone(),
            })
            .collect();
        // The first save records the choice even with nothing said yet.
        if lines.is_empty() && !first {
            return Ok(());
        }
        let now = self.live.clock.now();
        let mut tx = store.begin().await?;
        tx.save_chat(org, id, &lines).await?;
        tx.audit(
            &NewAudit {
                actor: &Actor::Staff(keep.by.clone()),
                action: "consultation.chat_save",
                object: id.as_str(),
                org_id: Some(org),
                client_addr: None,
                detail: &format!("messages={}", lines.len()),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        keep.saved_upto = self.chat.lines.last().map_or(0, |l| l.seq);
        Ok(())
    }

    /// Saves what is left of a kept chat as the room ends; otherwise it is discarded.
    pub(super) async fn end_chat(&mut self) {
        if let Err(e) = self.save_chat().await {
            tracing::error!(room = %self.id, error = %e, "saving the chat at the end failed");
        }
        self.chat = Chat::default();
    }
}
