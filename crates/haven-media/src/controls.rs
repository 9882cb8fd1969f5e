//! The owner's controls over what each participant sends and receives: display size,
//! audio-only, mute; and what the room knows: quality, the active speaker.
//!
//! Each change is decided on the room's next evaluation, which these calls bring forward
//! to now: [`Room::poll_output`] then returns a timeout of now, so the owner calls
//! [`Room::handle_timeout`] at once.

use std::time::Instant;

use crate::{AudioOnlyReason, ConnectionQuality, Error, MediaKind, ParticipantId, Room};

impl Room {
    /// Records the largest size, in CSS pixels, at which `subscriber` shows `publisher`'s
    /// video: the room then sends no simulcast layer larger than that size needs. A tile of
    /// 0×0 gets the smallest layer; until this is called, any layer may be sent.
    pub fn set_display_size(
        &mut self,
        now: Instant,
        subscriber: ParticipantId,
        publisher: ParticipantId,
        width: u32,
        height: u32,
    ) -> Result<(), Error> {
        self.advance(now);
        let p = self
            .participant_mut(subscriber)
            .ok_or(Error::UnknownParticipant(subscriber))?;
        p.display.insert(publisher, (width, height));
        self.next_evaluation = self.now;
        Ok(())
    }

    /// Turns video to `subscriber` off (`true`) or back on. Others are unaffected. The room
    /// reports the change as [`RoomEvent::AudioOnly`](crate::RoomEvent::AudioOnly) or
    /// [`RoomEvent::VideoResumed`](crate::RoomEvent::VideoResumed); resumed video starts
    /// at a keyframe.
    pub fn set_audio_only(
        &mut self,
        now: Instant,
        subscriber: ParticipantId,
        audio_only: bool,
    ) -> Result<(), Error> {
        self.advance(now);
        let p = self
            .participant_mut(subscriber)
            .ok_or(Error::UnknownParticipant(subscriber))?;
        p.audio_only.requested = audio_only;
        self.next_evaluation = self.now;
        Ok(())
    }

    /// Why video to this participant is off, if it is; `None` for an unknown participant.
    pub fn audio_only(&self, participant: ParticipantId) -> Option<Option<AudioOnlyReason>> {
        Some(self.participants.get(&participant)?.audio_only.reason())
    }

    /// Records that `participant` muted (or unmuted) its audio or video. Nothing of a muted
    /// kind is forwarded from it, a muted participant is never the active speaker, and
    /// unmuted video restarts at a keyframe.
    pub fn set_muted(
        &mut self,
        participant: ParticipantId,
        kind: MediaKind,
        muted: bool,
    ) -> Result<(), Error> {
        let p = self
            .participant_mut(participant)
            .ok_or(Error::UnknownParticipant(participant))?;
        match kind {
            MediaKind::Audio => p.muted_audio = muted,
            MediaKind::Video => p.muted_video = muted,
        }
        self.next_evaluation = self.now;
        Ok(())
    }

    /// Keeps a participant apart (`true`: waiting to be admitted, or on hold) or brings it
    /// in. Apart, its connection stays up, so admission starts the call at once, but no
    /// media is forwarded to or from it and it is never the active speaker. Brought in,
    /// its video starts at keyframes the room asks for.
    pub fn set_apart(&mut self, participant: ParticipantId, apart: bool) -> Result<(), Error> {
        if !self.participants.contains_key(&participant) {
            return Err(Error::UnknownParticipant(participant));
        }
        let changed = if apart {
            self.apart.insert(participant)
        } else {
            self.apart.remove(&participant)
        };
        if changed && !apart {
            self.restart_video(participant);
        }
        self.next_evaluation = self.now;
        Ok(())
    }

    /// Video between `participant` and everyone else starts over: its decoders and theirs
    /// wait for the keyframes the next evaluation asks for.
    fn restart_video(&mut self, participant: ParticipantId) {
        for (id, p) in self.participants.iter_mut() {
            p.wake = None;
            for out in p.tracks_out.iter_mut() {
                if out.kind == MediaKind::Video
                    && (*id == participant || out.source.origin == participant)
                {
                    out.switch.restart();
                }
            }
        }
    }

    /// Whether a participant is kept apart; `None` for an unknown participant.
    pub fn is_apart(&self, participant: ParticipantId) -> Option<bool> {
        self.participants
            .contains_key(&participant)
            .then(|| self.apart.contains(&participant))
    }

    /// Whether `participant` muted this kind; `None` for an unknown participant.
    pub fn is_muted(&self, participant: ParticipantId, kind: MediaKind) -> Option<bool> {
        Some(self.participants.get(&participant)?.is_muted(kind))
    }

    /// The latest measurement of a participant's connection, once one was made.
    pub fn quality(&self, participant: ParticipantId) -> Option<ConnectionQuality> {
        self.participants.get(&participant)?.quality.latest()
    }

    /// The active speaker, once anyone has spoken.
    pub fn active_speaker(&self) -> Option<ParticipantId> {
        self.speakers.current()
    }
}
