//! What a hub does only for group consultations: the names attendees know each other by
//! (hosts see full names; attendees see the name shown to the group and nothing more),
//! a host muting an attendee, stopping their video or removing them, and the end of each
//! attendee's stay for the attendance register.
//!
//! The rule for a host's controls: a muted attendee may unmute themselves (they may need
//! to speak, as in a room where the clinician asks for quiet); a stopped video stays off
//! until a host allows it again, because it is stopped for a reason (something on camera
//! that the group should not see). The attendee is told which, and why, each time.

use haven_domain::AttendeeId;
use haven_domain::audit::Actor;
use haven_store::audit::NewAudit;

use super::{Hub, RoomKind, Who};
use crate::media::ParticipantId;
use crate::signal::protocol::{Kind, ServerMsg};

/// A group participant's names.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    /// What the other attendees see: a first name or a chosen name.
    shown: String,
    /// What hosts see: the booked full name.
    full: String,
}

impl Names {
    /// The name a viewer may see: the full one for hosts.
    pub(super) fn for_viewer(&self, host: bool) -> &str {
        if host { &self.full } else { &self.shown }
    }
}

impl Hub {
    /// The names of someone joining, if the room is a group consultation. A failed read
    /// leaves them nameless (shown by number) rather than keeping them out.
    pub(super) async fn names_of(&mut self, who: &Who) -> Option<Names> {
        let RoomKind::Consultation { org, id } = &self.kind else {
            return None;
        };
        let store = &self.live.store;
        if self.group.is_none() {
            let kind = store.consultation(org, id).await.ok()?.kind;
            self.group = Some(kind == haven_domain::consultation::Kind::Group);
        }
        if self.group != Some(true) {
            return None;
        }
        match who {
            Who::Attendee(a) => {
                let g = store.group_attendee(org, a).await.ok()??;
                Some(Names {
                    shown: g.shown_name().as_str().to_owned(),
                    full: g.attendee.name.as_str().to_owned(),
                })
            }
            Who::Host(user) => {
                let name = store.user(org, user).await.ok()?.name;
                let name = name.as_str().to_owned();
                Some(Names {
                    shown: name.clone(),
                    full: name,
                })
            }
            Who::Seat(_) => None,
        }
    }

    /// Whether a participant's own mute change is allowed: turning the camera on is not
    /// while a host has stopped their video.
    pub(super) fn may_unmute(&self, id: ParticipantId, kind: Kind, muted: bool) -> bool {
        muted || kind == Kind::Audio || !self.members.get(&id).is_some_and(|m| m.video_stopped)
    }

    fn attendee_in_call(&self, attendee: &AttendeeId) -> Option<ParticipantId> {
        self.members
            .iter()
            .find(|(_, m)| matches!(&m.who, Who::Attendee(a) if a == attendee))
            .map(|(id, _)| *id)
    }

    fn tell(&self, id: ParticipantId, text: &str) {
        if let Some(c) = self.members.get(&id).and_then(|m| m.conn.as_ref()) {
            c.send(ServerMsg::Notice {
                text: text.to_owned(),
            });
        }
    }

    /// A host muted an attendee's microphone: nothing of their sound is forwarded until
    /// they unmute, and they are told (their own client shows the microphone off).
    pub(super) async fn host_mute(&mut self, attendee: &AttendeeId, muted: bool) {
        let Some(id) = self.attendee_in_call(attendee) else {
            return;
        };
        self.mute(id, Kind::Audio, muted).await;
        if let Some(c) = self.members.get(&id).and_then(|m| m.conn.as_ref()) {
            c.send(ServerMsg::Mute {
                participant: id.to_string(),
                kind: Kind::Audio,
                muted,
            });
        }
        if muted {
            self.tell(
                id,
                "A host muted your microphone. Unmute it when you want to speak.",
            );
        }
        self.broadcast_list(None);
    }

    /// A host stopped an attendee's video (nothing of it is forwarded, whatever their
    /// camera sends) or allowed it again (they turn their camera on themselves).
    pub(super) async fn stop_video(&mut self, attendee: &AttendeeId, stopped: bool) {
        let Some(id) = self.attendee_in_call(attendee) else {
            return;
        };
        if let Some(m) = self.members.get_mut(&id) {
            m.video_stopped = stopped;
        }
        if stopped {
            self.mute(id, Kind::Video, true).await;
            if let Some(c) = self.members.get(&id).and_then(|m| m.conn.as_ref()) {
                c.send(ServerMsg::Mute {
                    participant: id.to_string(),
                    kind: Kind::Video,
                    muted: true,
                });
            }
            self.tell(
                id,
                "A host stopped your video, so the group cannot see you. They can still hear \
                 you. Only a host can let you turn your camera on again.",
            );
        } else {
            self.tell(
                id,
                "A host allowed your video again. Turn your camera on when you are ready.",
            );
        }
        self.broadcast_list(None);
    }

    /// A host removed a group attendee from the call itself (the tile's "Remove"): as from
    /// the group's page, their links die, their stay ends and it is audited, before their
    /// connection is closed, so that the link is dead by the time they could rejoin.
    pub(super) async fn removed_in_call(&self, by: ParticipantId, target: ParticipantId) {
        let (RoomKind::Consultation { org, id }, Some(true)) = (&self.kind, self.group) else {
            return;
        };
        let (Some(Who::Host(user)), Some(Who::Attendee(attendee))) = (
            self.members.get(&by).map(|m| &m.who),
            self.members.get(&target).map(|m| &m.who),
        ) else {
            return;
        };
        let store = &self.live.store;
        let now = self.live.clock.now();
        let write = async {
            let mut tx = store.begin().await?;
            let revoked = tx.revoke_attendee_invites(org, attendee, now).await?;
            tx.stay_ends(org, attendee, now).await?;
            tx.audit(
                &NewAudit {
                    actor: &Actor::Staff(user.clone()),
                    action: "group.remove",
                    object: id.as_str(),
                    org_id: Some(org),
                    client_addr: None,
                    detail: &format!("attendee={attendee} links_revoked={revoked} from=call"),
                },
                now,
            )
            .await?;
            tx.commit().await
        };
        if let Err(e) = write.await {
            tracing::error!(room = %self.id, error = %e, "recording a removal failed");
        }
    }

    /// Ends every stay still open when a group's room ends, for whatever reason.
    pub(super) async fn stays_end_all(&self) {
        let (RoomKind::Consultation { org, id }, Some(true)) = (&self.kind, self.group) else {
            return;
        };
        let now = self.live.clock.now();
        let write = async {
            let mut tx = self.live.store.begin().await?;
            tx.stays_end_all(org, id, now).await?;
            tx.commit().await
        };
        if let Err(e) = write.await {
            tracing::error!(room = %self.id, error = %e, "recording the end of the stays failed");
        }
    }
}
