//! Connection bookkeeping: who joins (or comes back within their grace period), who is
//! ejected, leaves or drops out, and the participant lists each one is sent.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use super::{Hub, Member, RoomKind, Stage, Who, group};
use crate::media::ParticipantId;
use crate::media::turn::TurnCredentials;
use crate::signal::conn::{Close, Conn, ConnId};
use crate::signal::live::LiveError;
use crate::signal::protocol::{ErrorCode, IceServer, ParticipantInfo, ProtocolError, ServerMsg};

/// How long TURN credentials handed out in `welcome` stay valid.
const TURN_TTL: Duration = Duration::from_secs(12 * 3600);

impl Hub {
    pub(super) fn join(
        &mut self,
        who: Who,
        conn: Conn,
        names: Option<group::Names>,
    ) -> Result<ParticipantId, LiveError> {
        if let Who::Seat(hash) = &who
            && !self.live.seats.is_valid(hash)
        {
            return Err(LiveError::BadSeat);
        }
        let existing = self
            .members
            .iter()
            .find(|(_, m)| m.who == who)
            .map(|(id, _)| *id);
        let id = match existing {
            Some(id) => id,
            None => {
                let id = ParticipantId::new(self.next_participant);
                self.next_participant += 1;
                let host = match (&self.kind, &who) {
                    (RoomKind::Test { host }, Who::Host(user)) => user == host,
                    (RoomKind::Consultation { .. }, Who::Host(_)) => true,
                    _ => false,
                };
                let stage = match (&self.kind, host) {
                    (RoomKind::Consultation { .. }, false) => Stage::Waiting,
                    _ => Stage::Admitted,
                };
                self.members.insert(
                    id,
                    Member {
                        who,
                        host,
                        stage,
                        waiting_since: self.live.clock.now(),
                        conn: None,
                        grace_until: None,
                        in_media: false,
                        audio_muted: false,
                        video_muted: false,
                        audio_only: false,
                        views: BTreeMap::new(),
                        pending_offer: None,
                        flowing_recorded: false,
                        names,
                        video_stopped: false,
                    },
                );
                id
            }
        };
        let ice_servers = self.ice_servers(id);
        let in_call = self
            .members
            .get(&id)
            .is_some_and(|m| m.stage == Stage::Admitted);
        // Someone waiting sees only themselves: not who else is waiting, nor who is in
        // the call.
        let participants = if in_call {
            self.list(id)
        } else {
            self.list_of(&[id], id)
        };
        let member = self.members.get_mut(&id).expect("inserted or found above");
        if let Some(old) = member.conn.replace(conn.clone()) {
            old.close(Close::REPLACED);
        }
        member.grace_until = None;
        conn.send(ServerMsg::Welcome {
            participant: id.to_string(),
            room: self.id.get().to_string(),
            host: member.host,
            participants,
            ice_servers,
        });
        if let RoomKind::Consultation { .. } = self.kind {
            conn.send(ServerMsg::Stage {
                stage: member.stage.into(),
            });
        }
        if let Some(sdp) = member.pending_offer.clone() {
            conn.send(ServerMsg::Offer { sdp });
        }
        self.repeat_warning(&conn);
        self.tell_side_room(id, &conn);
        if in_call {
            self.broadcast_list(Some(id));
        }
        self.publish_waiting();
        Ok(id)
    }

    /// Ejects `target`: out of the media room first (no datagram to or from it once that
    /// returns), then its seat revoked, then its WebSocket told and closed.
    pub(super) async fn eject(&mut self, by: ParticipantId, target: ParticipantId) {
        if by == target {
            self.refuse(
                by,
                ErrorCode::InvalidField,
                "the host cannot eject themselves; send \"end\" to end the call",
            );
            return;
        }
        if !self.members.contains_key(&target) {
            self.refuse(
                by,
                ErrorCode::UnknownParticipant,
                &format!("nobody in this call has the id \"{target}\""),
            );
            return;
        }
        self.remove(target).await;
        self.removed_in_call(by, target).await;
        let Some(member) = self.members.remove(&target) else {
            return;
        };
        if let Who::Seat(hash) = &member.who {
            self.live.seats.revoke(hash);
        }
        if let Some(c) = member.conn {
            c.send(ServerMsg::Ejected {
                reason: "the host removed you from the call".to_owned(),
            });
            c.close(Close::EJECTED);
        }
        tracing::info!(room = %self.id, participant = %target, "participant ejected");
        self.broadcast_list(None);
        self.publish_waiting();
    }

    /// Takes a participant out of the media room (done when this returns).
    pub(super) async fn remove(&mut self, id: ParticipantId) {
        if self.side_room == Some(id) {
            // Nobody is left to talk with privately: the others come back.
            let _ = self.side_room(None).await;
        }
        if let Err(e) = self.media.remove(id).await {
            tracing::debug!(room = %self.id, error = %e, "removing from a closed media room");
        }
    }

    pub(super) fn gone(&mut self, conn: ConnId) {
        let Some(id) = self.by_conn(conn) else {
            return;
        };
        if let Some(m) = self.members.get_mut(&id) {
            m.conn = None;
            m.grace_until = Some(Instant::now() + self.grace);
        }
        self.broadcast_list(None);
        self.publish_waiting();
    }

    /// Removes everyone whose grace period is over.
    pub(super) async fn expire_graces(&mut self) {
        let now = Instant::now();
        let expired: Vec<ParticipantId> = self
            .members
            .iter()
            .filter(|(_, m)| m.grace_until.is_some_and(|g| g <= now))
            .map(|(id, _)| *id)
            .collect();
        if expired.is_empty() {
            return;
        }
        for id in expired {
            self.remove(id).await;
            self.left_call(id);
            self.members.remove(&id);
        }
        self.broadcast_list(None);
        self.publish_waiting();
    }

    pub(super) fn by_conn(&self, conn: ConnId) -> Option<ParticipantId> {
        self.members
            .iter()
            .find(|(_, m)| m.conn.as_ref().is_some_and(|c| c.id() == conn))
            .map(|(id, _)| *id)
    }

    pub(super) fn refuse(&self, id: ParticipantId, code: ErrorCode, message: &str) {
        if let Some(c) = self.members.get(&id).and_then(|m| m.conn.as_ref()) {
            c.send(ServerMsg::error(ProtocolError::new(code, message)));
        }
    }

    /// Everyone in the call (admitted or on hold) as `viewer` sees them; those waiting are
    /// not listed.
    pub(super) fn list(&self, viewer: ParticipantId) -> Vec<ParticipantInfo> {
        let ids: Vec<ParticipantId> = self
            .members
            .iter()
            .filter(|(_, m)| m.stage != Stage::Waiting)
            .map(|(id, _)| *id)
            .collect();
        self.list_of(&ids, viewer)
    }

    pub(super) fn list_of(
        &self,
        ids: &[ParticipantId],
        viewer: ParticipantId,
    ) -> Vec<ParticipantInfo> {
        // In a group, hosts see full names and attendees only the names shown to the group.
        let full = self.members.get(&viewer).is_some_and(|m| m.host);
        self.members
            .iter()
            .filter(|(id, _)| ids.contains(id))
            .map(|(id, m)| ParticipantInfo {
                id: id.to_string(),
                host: m.host,
                connected: m.conn.is_some(),
                audio_muted: m.audio_muted,
                video_muted: m.video_muted,
                audio_only: m.audio_only,
                name: m.names.as_ref().map(|n| n.for_viewer(full).to_owned()),
            })
            .collect()
    }

    /// Sends the participant list to everyone in the call (but `except`).
    pub(super) fn broadcast_list(&self, except: Option<ParticipantId>) {
        for (id, m) in &self.members {
            if m.stage == Stage::Waiting {
                continue;
            }
            if let (false, Some(c)) = (Some(*id) == except, &m.conn) {
                c.send(ServerMsg::Participants {
                    list: self.list(*id),
                });
            }
        }
    }

    /// TURN relays with time-limited credentials, when configured.
    pub(super) fn ice_servers(&self, id: ParticipantId) -> Vec<IceServer> {
        let settings = &self.live.settings;
        if settings.turn_urls.is_empty() {
            return Vec::new();
        }
        let (username, credential) = match &settings.turn_secret {
            Some(secret) => {
                let now = u64::try_from(self.live.clock.now().unix_timestamp()).unwrap_or(0);
                let label = format!("haven-{}-{id}", self.id.get());
                let c = TurnCredentials::new(secret, &label, now, TURN_TTL);
                (Some(c.username), Some(c.credential))
            }
            None => (None, None),
        };
        vec![IceServer {
            urls: settings.turn_urls.clone(),
            username,
            credential,
        }]
    }
}
