//! What a hub does only for consultations: moving invited people between the waiting
//! area, the call and hold (the media room keeps anyone not in the call apart), notices to
//! people waiting, the clinic's waiting list, and recording the end.

use haven_domain::AttendeeId;
use haven_domain::audit::Actor;
use haven_domain::consultation::{Event, JourneyStep};
use haven_store::audit::NewAudit;

use super::{EndedBy, Hub, RoomKind, Stage, Who};
use crate::media::{Control, ParticipantId};
use crate::signal::live::WaitingEntry;
use crate::signal::protocol::ServerMsg;

impl Hub {
    pub(super) fn attendee(&self, attendee: &AttendeeId) -> Option<ParticipantId> {
        self.members
            .iter()
            .find(|(_, m)| matches!(&m.who, Who::Attendee(a) if a == attendee))
            .map(|(id, _)| *id)
    }

    /// Moves an attendee to `stage`: the media room brings them in or keeps them apart,
    /// they are told, and the people in the call see the new list.
    pub(super) async fn set_stage(&mut self, attendee: &AttendeeId, stage: Stage) {
        // Read before anyone is told: the time limit counts from this moment.
        let now = self.live.clock.now();
        let Some(id) = self.attendee(attendee) else {
            return;
        };
        let Some(member) = self.members.get_mut(&id) else {
            return;
        };
        if member.stage == stage {
            return;
        }
        member.stage = stage;
        if stage == Stage::Waiting {
            member.waiting_since = now;
        }
        let conn = member.conn.clone();
        if let Some(c) = conn {
            c.send(ServerMsg::Stage {
                stage: stage.into(),
            });
            if stage == Stage::Admitted {
                c.send(ServerMsg::Participants {
                    list: self.list(id),
                });
            }
            self.tell_side_room(id, &c);
        }
        if stage == Stage::Admitted {
            self.chat_join(id).await;
        }
        self.apply_stage(id).await;
        if stage != Stage::Admitted && self.side_room == Some(id) {
            // The person the clinician was talking with privately left the call.
            let _ = self.side_room(None).await;
        }
        self.broadcast_list(Some(id));
        self.publish_waiting();
        if stage == Stage::Admitted {
            self.start_limit(now).await;
        }
    }

    /// Tells the media room whether a participant is apart from the call.
    pub(super) async fn apply_stage(&self, id: ParticipantId) {
        self.control(id, Control::Apart(self.is_apart(id))).await;
    }

    /// Shows a staff message to someone waiting.
    pub(super) fn notice(&self, attendee: &AttendeeId, text: String) {
        let Some(id) = self.attendee(attendee) else {
            return;
        };
        if let Some(c) = self.members.get(&id).and_then(|m| m.conn.as_ref()) {
            c.send(ServerMsg::Notice { text });
        }
    }

    /// Puts this room's waiting people on the clinic's live waiting list.
    pub(super) fn publish_waiting(&self) {
        let RoomKind::Consultation { org, id } = &self.kind else {
            return;
        };
        let entries = self
            .members
            .values()
            .filter(|m| m.stage == Stage::Waiting)
            .filter_map(|m| match &m.who {
                Who::Attendee(attendee) => Some(WaitingEntry {
                    attendee: attendee.clone(),
                    since: m.waiting_since,
                    connected: m.conn.is_some(),
                }),
                _ => None,
            })
            .collect();
        self.live.set_waiting(org, id, entries);
    }

    /// Records, once per attendee, that their media flows both ways in the call. The
    /// write runs on its own task: signalling never waits for the database.
    pub(super) fn media_flowing(&mut self, id: ParticipantId) {
        let RoomKind::Consultation { org, .. } = &self.kind else {
            return;
        };
        let Some(member) = self.members.get_mut(&id) else {
            return;
        };
        let Who::Attendee(attendee) = &member.who else {
            return;
        };
        if member.stage != Stage::Admitted || member.flowing_recorded {
            return;
        }
        member.flowing_recorded = true;
        let (org, attendee) = (org.clone(), attendee.clone());
        let store = self.live.store.clone();
        let now = self.live.clock.now();
        let room = self.id;
        tokio::spawn(async move {
            let write = async {
                let mut tx = store.begin().await?;
                tx.journey_step_once(&org, &attendee, JourneyStep::MediaFlowing, now)
                    .await?;
                tx.commit().await
            };
            if let Err(e) = write.await {
                tracing::error!(%room, error = %e, "recording that media flows failed");
            }
        });
    }

    /// Records the end of a consultation: its status, its dead links and who ended it.
    pub(super) async fn record_end(&self) {
        let RoomKind::Consultation { org, id } = &self.kind else {
            return;
        };
        self.live.set_waiting(org, id, Vec::new());
        let store = &self.live.store;
        let now = self.live.clock.now();
        let Some(ended_by) = &self.ended_by else {
            // The room closed without a clinician ending it (it expired, or the server
            // is stopping): the consultation stays open for them to end or record, but
            // nobody is in the call any more.
            let write = async {
                let mut tx = store.begin().await?;
                tx.stays_end_all(org, id, now).await?;
                tx.commit().await
            };
            if let Err(e) = write.await {
                tracing::error!(room = %self.id, error = %e, "closing the attendance register failed");
            }
            return;
        };
        let attendees: Vec<AttendeeId> = self
            .members
            .values()
            .filter_map(|m| match &m.who {
                Who::Attendee(a) => Some(a.clone()),
                _ => None,
            })
            .collect();
        let (actor, by) = match ended_by {
            EndedBy::Staff(user) => (Actor::Staff(user.clone()), String::new()),
            EndedBy::TimeLimit { minutes } => (
                Actor::System,
                format!(" by=time_limit limit_minutes={minutes}"),
            ),
        };
        let write = async {
            let mut tx = store.begin().await?;
            let (before, after) = match tx.transition(org, id, Event::End, now).await {
                Ok(change) => change,
                // Ending a consultation nobody joined: nothing to record but the links.
                Err(haven_store::Error::Refused(_)) => {
                    drop(tx);
                    tx = store.begin().await?;
                    let status = store.consultation(org, id).await?.status;
                    (status, status)
                }
                Err(e) => return Err(e),
            };
            tx.revoke_consultation_invites(org, id, now).await?;
            tx.stays_end_all(org, id, now).await?;
            for attendee in &attendees {
                tx.journey_step(org, attendee, JourneyStep::Ended, None, now)
                    .await?;
            }
            if before != after {
                tx.audit(
                    &NewAudit {
                        actor: &actor,
                        action: "consultation.end",
                        object: id.as_str(),
                        org_id: Some(org),
                        client_addr: None,
                        detail: &format!("from={before}{by}"),
                    },
                    now,
                )
                .await?;
            }
            tx.commit().await
        };
        if let Err(e) = write.await {
            tracing::error!(room = %self.id, error = %e, "recording the end of a consultation failed");
        }
    }
}
