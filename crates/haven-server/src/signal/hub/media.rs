//! The hub's traffic with its media room: what clients ask of the media they send and
//! receive (mute, audio only, tile sizes), and what the room reports back (renegotiation,
//! departures, audio-only and its reason, the active speaker, connection quality).

use super::Hub;
use crate::media::{Control, MediaKind, ParticipantId, RoomEvent};
use crate::signal::protocol::{ErrorCode, Kind, Sdp, ServerMsg};

impl Hub {
    /// A client's offer: its first joins the media room, later ones renegotiate (tracks
    /// added or removed, an ICE restart). The answer goes back to that client only.
    pub(super) async fn offer(&mut self, id: ParticipantId, sdp: Sdp) {
        let Some(in_media) = self.members.get(&id).map(|m| m.in_media) else {
            return;
        };
        let sdp = sdp.into_string();
        let answer = if in_media {
            self.media.offer(id, sdp).await
        } else {
            self.media.join(id, sdp).await
        };
        match answer {
            Ok(sdp) => {
                if let Some(m) = self.members.get_mut(&id) {
                    m.in_media = true;
                    if let Some(c) = &m.conn {
                        c.send(ServerMsg::Answer { sdp });
                    }
                }
                if !in_media {
                    self.restore_controls(id).await;
                }
            }
            Err(e) => self.refuse(
                id,
                ErrorCode::MediaRefused,
                &format!("the media server refused the offer: {e}"),
            ),
        }
    }

    /// A client's answer to the room's last offer to it.
    pub(super) async fn answer(&mut self, id: ParticipantId, sdp: Sdp) {
        match self.media.answer(id, sdp.into_string()).await {
            Ok(()) => {
                if let Some(m) = self.members.get_mut(&id) {
                    m.pending_offer = None;
                }
            }
            Err(e) => self.refuse(
                id,
                ErrorCode::MediaRefused,
                &format!("the media server refused the answer: {e}"),
            ),
        }
    }

    /// Records a mute, applies it in the media room (nothing of that kind is forwarded
    /// from a muted participant, whatever its client keeps sending) and tells the others.
    pub(super) async fn mute(&mut self, id: ParticipantId, kind: Kind, muted: bool) {
        let Some(m) = self.members.get_mut(&id) else {
            return;
        };
        match kind {
            Kind::Audio => m.audio_muted = muted,
            Kind::Video => m.video_muted = muted,
        }
        let kind_media = match kind {
            Kind::Audio => MediaKind::Audio,
            Kind::Video => MediaKind::Video,
        };
        self.control(
            id,
            Control::Mute {
                kind: kind_media,
                muted,
            },
        )
        .await;
        let msg = ServerMsg::Mute {
            participant: id.to_string(),
            kind,
            muted,
        };
        self.send_others(id, &msg);
    }

    /// Records the audio-only preference and applies it; the room confirms with an
    /// `AudioOnly` or `VideoResumed` event, which reaches the client as `audio_only` or
    /// `video_resumed`.
    pub(super) async fn prefer(&mut self, id: ParticipantId, audio_only: bool) {
        let Some(m) = self.members.get_mut(&id) else {
            return;
        };
        m.audio_only = audio_only;
        self.control(id, Control::AudioOnly(audio_only)).await;
        self.broadcast_list(None);
    }

    /// Records the size at which `id` shows `publisher`'s video, so the room sends a
    /// simulcast layer no larger than that needs.
    pub(super) async fn view(
        &mut self,
        id: ParticipantId,
        publisher: ParticipantId,
        width: u32,
        height: u32,
    ) {
        if publisher == id || !self.members.contains_key(&publisher) {
            self.refuse(
                id,
                ErrorCode::UnknownParticipant,
                &format!("nobody else in this call has the id \"{publisher}\""),
            );
            return;
        }
        if let Some(m) = self.members.get_mut(&id) {
            m.views.insert(publisher, (width, height));
        }
        let control = Control::Display {
            publisher,
            width,
            height,
        };
        self.control(id, control).await;
    }

    /// Re-applies a participant's controls when it (re)enters the media room: a new media
    /// participant starts unmuted, with video, and with no tile sizes known.
    pub(super) async fn restore_controls(&mut self, id: ParticipantId) {
        let Some(m) = self.members.get(&id) else {
            return;
        };
        let mut controls = vec![
            Control::Mute {
                kind: MediaKind::Audio,
                muted: m.audio_muted,
            },
            Control::Mute {
                kind: MediaKind::Video,
                muted: m.video_muted,
            },
            Control::AudioOnly(m.audio_only),
            Control::Apart(self.is_apart(id)),
        ];
        controls.extend(
            m.views
                .iter()
                .map(|(publisher, (width, height))| Control::Display {
                    publisher: *publisher,
                    width: *width,
                    height: *height,
                }),
        );
        for control in controls {
            self.control(id, control).await;
        }
    }

    /// Applies a control in the media room once the participant is in it; before its
    /// first offer the state is only recorded, and `restore_controls` applies it.
    pub(super) async fn control(&self, id: ParticipantId, control: Control) {
        if !self.members.get(&id).is_some_and(|m| m.in_media) {
            return;
        }
        if let Err(e) = self.media.control(id, control).await {
            tracing::debug!(room = %self.id, participant = %id, error = %e, "control not applied");
        }
    }

    pub(super) fn media_event(&mut self, event: RoomEvent) {
        match event {
            RoomEvent::Offer { participant, sdp } => {
                if let Some(m) = self.members.get_mut(&participant) {
                    if let Some(c) = &m.conn {
                        c.send(ServerMsg::Offer { sdp: sdp.clone() });
                    }
                    m.pending_offer = Some(sdp);
                }
            }
            RoomEvent::Left {
                participant,
                reason,
            } => {
                if let Some(m) = self.members.get_mut(&participant) {
                    tracing::info!(room = %self.id, %participant, ?reason, "left the media room");
                    m.in_media = false;
                    m.pending_offer = None;
                }
            }
            RoomEvent::AudioOnly {
                participant,
                reason,
            } => self.send_to(
                participant,
                ServerMsg::AudioOnly {
                    reason: reason.into(),
                },
            ),
            RoomEvent::VideoResumed { participant } => {
                self.send_to(participant, ServerMsg::VideoResumed {});
            }
            RoomEvent::ActiveSpeaker { participant } => {
                let msg = ServerMsg::Speaker {
                    participant: participant.to_string(),
                };
                self.send_others(participant, &msg);
                self.send_to(participant, msg);
            }
            RoomEvent::Quality {
                participant,
                quality,
            } => {
                let msg = ServerMsg::quality(participant, &quality);
                self.send_others(participant, &msg);
                self.send_to(participant, msg);
            }
            RoomEvent::MediaFlowing { participant } => self.media_flowing(participant),
            // Connections, publications and keyframe requests are the media room's own
            // business; clients learn of them through their peer connection.
            RoomEvent::Connected(_)
            | RoomEvent::TrackPublished { .. }
            | RoomEvent::KeyframeRequested { .. } => {}
        }
    }

    fn send_to(&self, id: ParticipantId, msg: ServerMsg) {
        if let Some(c) = self.members.get(&id).and_then(|m| m.conn.as_ref()) {
            c.send(msg);
        }
    }

    fn send_others(&self, id: ParticipantId, msg: &ServerMsg) {
        for (other, m) in &self.members {
            if let (true, Some(c)) = (*other != id, &m.conn) {
                c.send(msg.clone());
            }
        }
    }
}
