//! The owner's side of a room: the closed set of commands and the handle that sends them.

use tokio::sync::{mpsc, oneshot};

use haven_media::MediaKind;

use super::{MediaError, ParticipantId, RoomEvent, RoomId};

/// The receiving end of a room's events (connections, departures, renegotiation offers).
pub type RoomEvents = mpsc::Receiver<RoomEvent>;

/// The closed set of things a room's owner can ask of it.
pub(crate) enum Command {
    Join {
        participant: ParticipantId,
        offer: String,
        reply: oneshot::Sender<Result<String, MediaError>>,
    },
    Answer {
        participant: ParticipantId,
        answer: String,
        reply: oneshot::Sender<Result<(), MediaError>>,
    },
    Offer {
        participant: ParticipantId,
        offer: String,
        reply: oneshot::Sender<Result<String, MediaError>>,
    },
    Remove {
        participant: ParticipantId,
        reply: oneshot::Sender<bool>,
    },
    Control {
        participant: ParticipantId,
        control: Control,
        reply: oneshot::Sender<Result<(), MediaError>>,
    },
    End {
        reply: oneshot::Sender<()>,
    },
    /// Test hook: proves a panicking room ends alone.
    #[cfg(test)]
    Panic,
}

/// What a participant's client asks of the media it sends and receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// It muted (or unmuted) its microphone or camera: nothing of that kind is forwarded
    /// from it meanwhile.
    Mute {
        /// Which.
        kind: MediaKind,
        /// Whether it is now muted.
        muted: bool,
    },
    /// It wants sound only (or video again).
    AudioOnly(bool),
    /// Keep it apart from the call (waiting to be admitted, or on hold), or bring it in.
    Apart(bool),
    /// It shows `publisher`'s video at this size in CSS pixels (which simulcast layer it needs).
    Display {
        /// Whose video.
        publisher: ParticipantId,
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
}

/// Commands a live room. Cheap to clone; the room ends when every handle is dropped.
#[derive(Clone)]
pub struct RoomHandle {
    id: RoomId,
    commands: mpsc::Sender<Command>,
}

impl RoomHandle {
    pub(crate) fn new(id: RoomId, commands: mpsc::Sender<Command>) -> Self {
        RoomHandle { id, commands }
    }

    /// The room's id.
    pub fn id(&self) -> RoomId {
        self.id
    }

    /// Admits a participant from its client's SDP offer; returns the SDP answer.
    pub async fn join(
        &self,
        participant: ParticipantId,
        offer: String,
    ) -> Result<String, MediaError> {
        self.ask(|reply| Command::Join {
            participant,
            offer,
            reply,
        })
        .await?
    }

    /// Hands over a participant's answer to a [`RoomEvent::Offer`].
    pub async fn answer(
        &self,
        participant: ParticipantId,
        answer: String,
    ) -> Result<(), MediaError> {
        self.ask(|reply| Command::Answer {
            participant,
            answer,
            reply,
        })
        .await?
    }

    /// Hands over a participant's own offer (renegotiation, ICE restart); returns the answer.
    pub async fn offer(
        &self,
        participant: ParticipantId,
        offer: String,
    ) -> Result<String, MediaError> {
        self.ask(|reply| Command::Offer {
            participant,
            offer,
            reply,
        })
        .await?
    }

    /// Removes a participant at once (eject, hang-up): from the moment this returns, not
    /// one more datagram goes to or is forwarded from it. Returns whether it was present.
    pub async fn remove(&self, participant: ParticipantId) -> Result<bool, MediaError> {
        self.ask(|reply| Command::Remove { participant, reply })
            .await
    }

    /// Applies a participant's control (mute, audio-only, display size). Fails with
    /// [`MediaError::Room`] for a participant not (or no longer) in the media room.
    pub async fn control(
        &self,
        participant: ParticipantId,
        control: Control,
    ) -> Result<(), MediaError> {
        self.ask(|reply| Command::Control {
            participant,
            control,
            reply,
        })
        .await?
    }

    /// Ends the room: every participant is removed and its routes dropped; when this
    /// returns, nothing more is sent or forwarded, and later calls fail with `RoomClosed`.
    pub async fn end(&self) -> Result<(), MediaError> {
        self.ask(|reply| Command::End { reply }).await
    }

    #[cfg(test)]
    pub(crate) async fn panic_for_test(&self) {
        let _ = self.commands.send(Command::Panic).await;
    }

    async fn ask<R>(
        &self,
        make: impl FnOnce(oneshot::Sender<R>) -> Command,
    ) -> Result<R, MediaError> {
        let (reply, answer) = oneshot::channel();
        let closed = MediaError::RoomClosed(self.id);
        self.commands.send(make(reply)).await.map_err(|_| closed)?;
        answer.await.map_err(|_| MediaError::RoomClosed(self.id))
    }
}
