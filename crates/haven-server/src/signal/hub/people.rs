//! What a hub does for more people in a consultation: removing someone for good, the
//! private side-room (the clinician talks with one person while everyone else who is not
//! a host is held apart by the media room), and the attendance register's note of people
//! who leave the call on their own.

use haven_domain::AttendeeId;

use super::{Hub, RoomKind, Stage, Who};
use crate::media::ParticipantId;
use crate::signal::conn::{Close, Conn};
use crate::signal::protocol::ServerMsg;

/// What people held apart by a side-room read.
pub(crate) const SIDE_ROOM_TEXT: &str =
    "The clinician is speaking with someone privately. You will be brought back shortly.";
/// What they read when they are brought back.
const BACK_TEXT: &str = "You are back in the consultation.";
/// Why a removed person's call ended.
pub(crate) const REMOVED_REASON: &str = "the clinician removed you from this consultation";

impl Hub {
    /// Whether the media room keeps a participant apart: waiting, on hold, or held while
    /// the clinician talks with someone else in a side-room.
    pub(super) fn is_apart(&self, id: ParticipantId) -> bool {
        self.members
            .get(&id)
            .is_none_or(|m| m.stage != Stage::Admitted)
            || self.held_by_side_room(id)
    }

    /// Whether a side-room holds this participant: it is on, they are not a host and not
    /// the person the clinician is talking with.
    fn held_by_side_room(&self, id: ParticipantId) -> bool {
        self.side_room
            .is_some_and(|with| with != id && self.members.get(&id).is_some_and(|m| !m.host))
    }

    /// Tells someone joining or admitted during a side-room that they are held.
    pub(super) fn tell_side_room(&self, id: ParticipantId, conn: &Conn) {
        let admitted = self
            .members
            .get(&id)
            .is_some_and(|m| m.stage == Stage::Admitted);
        if admitted && self.held_by_side_room(id) {
            conn.send(ServerMsg::Stage {
                stage: Stage::Held.into(),
            });
            conn.send(ServerMsg::SideRoom {
                active: true,
                text: SIDE_ROOM_TEXT.to_owned(),
            });
        }
    }

    /// Opens a side-room with one admitted attendee (`Some`), or brings everyone back
    /// (`None`). Everyone whose state changes is held apart (or let back) in the media
    /// room first, then told.
    pub(super) async fn side_room(&mut self, with: Option<&AttendeeId>) -> Result<(), String> {
        if !matches!(self.kind, RoomKind::Consultation { .. }) {
            return Err("only consultations have a side-room".to_owned());
        }
        let target = match with {
            None => None,
            Some(attendee) => {
                let admitted = self.attendee(attendee).filter(|id| {
                    self.members
                        .get(id)
                        .is_some_and(|m| m.stage == Stage::Admitted)
                });
                match admitted {
                    Some(id) => Some(id),
                    None => {
                        return Err(
                            "they are not in the call now: a side-room is for someone admitted"
                                .to_owned(),
                        );
                    }
                }
            }
        };
        let in_call: Vec<ParticipantId> = self
            .members
            .iter()
            .filter(|(_, m)| m.stage == Stage::Admitted && !m.host)
            .map(|(id, _)| *id)
            .collect();
        let before: Vec<bool> = in_call
            .iter()
            .map(|id| self.held_by_side_room(*id))
            .collect();
        self.side_room = target;
        for (id, was) in in_call.into_iter().zip(before) {
            let held = self.held_by_side_room(id);
            if held == was {
                continue;
            }
            self.apply_stage(id).await;
            let Some(c) = self.members.get(&id).and_then(|m| m.conn.clone()) else {
                continue;
            };
            if held {
                self.tell_side_room(id, &c);
            } else {
                c.send(ServerMsg::Stage {
                    stage: Stage::Admitted.into(),
                });
                c.send(ServerMsg::SideRoom {
                    active: false,
                    text: BACK_TEXT.to_owned(),
                });
                c.send(ServerMsg::Participants {
                    list: self.list(id),
                });
            }
        }
        tracing::info!(room = %self.id, on = target.is_some(), "side-room changed");
        Ok(())
    }

    /// Removes an attendee for good: out of the media room first (nothing to or from them
    /// once that returns), then told and disconnected. Their links were revoked by the
    /// caller, so they cannot come back.
    pub(super) async fn remove_attendee(&mut self, attendee: &AttendeeId) {
        let Some(id) = self.attendee(attendee) else {
            return;
        };
        self.remove(id).await;
        let Some(member) = self.members.remove(&id) else {
            return;
        };
        if let Some(c) = member.conn {
            c.send(ServerMsg::Ejected {
                reason: REMOVED_REASON.to_owned(),
            });
            c.close(Close::EJECTED);
        }
        tracing::info!(room = %self.id, participant = %id, "attendee removed");
        self.broadcast_list(None);
        self.publish_waiting();
    }

    /// Records, for the attendance register, that an attendee in the call left it on their
    /// own (hung up, or did not come back within the reconnection grace). The write runs
    /// on its own task: signalling never waits for the database.
    pub(super) fn left_call(&self, id: ParticipantId) {
        let RoomKind::Consultation { org, .. } = &self.kind else {
            return;
        };
        let Some(m) = self.members.get(&id) else {
            return;
        };
        let Who::Attendee(attendee) = &m.who else {
            return;
        };
        if m.stage == Stage::Waiting {
            return;
        }
        let (org, attendee) = (org.clone(), attendee.clone());
        let store = self.live.store.clone();
        let now = self.live.clock.now();
        let room = self.id;
        tokio::spawn(async move {
            let write = async {
                let mut tx = store.begin().await?;
                tx.stay_ends(&org, &attendee, now).await?;
                tx.commit().await
            };
            if let Err(e) = write.await {
                tracing::error!(%room, error = %e, "recording that someone left the call failed");
            }
        });
    }
}
