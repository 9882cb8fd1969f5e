//! What connections and the registry ask of a hub, and how the hub applies each
//! request and each joined client's message: one arm a variant, handled by the module
//! that owns that part of the room.

use haven_domain::AttendeeId;
use tokio::sync::oneshot;

use super::{EndedBy, Hub, Member, RoomKind, Stage, Who, files};
use crate::signal::conn::{Close, Conn, ConnId};
use crate::signal::live::LiveError;
use crate::signal::protocol::{ClientMsg, ErrorCode};

/// What connections and the registry ask of a hub.
pub(crate) enum ToHub {
    /// A connection authenticated as `who` joins (or resumes its seat).
    Join {
        who: Who,
        conn: Conn,
        reply: oneshot::Sender<Result<(), LiveError>>,
    },
    /// A message from a joined connection.
    Msg { conn: ConnId, msg: ClientMsg },
    /// The connection's WebSocket is gone; its participant's grace period starts.
    Gone { conn: ConnId },
    /// End the room (the host opened another one, or a clinician ended the consultation).
    End { reason: String },
    /// A clinician admitted an attendee (after the identity checklist).
    Admit { attendee: AttendeeId },
    /// A clinician put an admitted attendee on hold, or resumed them.
    Hold { attendee: AttendeeId, on: bool },
    /// A clinician sent an attendee back to the waiting area.
    ToWaiting { attendee: AttendeeId },
    /// A short message from staff to someone waiting ("running 10 minutes late").
    Notice { attendee: AttendeeId, text: String },
    /// A host of a group muted an attendee's microphone (or let them unmute).
    HostMute { attendee: AttendeeId, muted: bool },
    /// A host of a group stopped an attendee's video, or allowed it again.
    StopVideo { attendee: AttendeeId, stopped: bool },
    /// A file shared in the chat, over HTTP.
    Upload(files::Upload),
    /// A shared file asked for, over HTTP.
    Download(files::Download),
    /// A clinician removed an attendee: out of the media room and the call at once.
    Remove { attendee: AttendeeId },
    /// A clinician talks privately with one admitted attendee while everyone else who is
    /// not a host is held apart (`Some`), or brings everyone back (`None`). The reply says
    /// why it could not be done.
    SideRoom {
        with: Option<AttendeeId>,
        reply: oneshot::Sender<Result<(), String>>,
    },
}

impl Hub {
    /// Applies one request; returns a reason when the room must end.
    pub(super) async fn command(&mut self, cmd: ToHub) -> Option<String> {
        match cmd {
            ToHub::Join { who, conn, reply } => {
                let names = self.names_of(&who).await;
                let joined = self.join(who, conn, names);
                if let Ok(id) = &joined {
                    self.chat_join(*id).await;
                }
                let _ = reply.send(joined.map(|_| ()));
            }
            ToHub::Msg { conn, msg } => return self.message(conn, msg).await,
            ToHub::Gone { conn } => self.gone(conn),
            ToHub::End { reason } => return Some(reason),
            ToHub::Admit { attendee } => self.set_stage(&attendee, Stage::Admitted).await,
            ToHub::Hold { attendee, on } => {
                let stage = if on { Stage::Held } else { Stage::Admitted };
                self.set_stage(&attendee, stage).await;
            }
            ToHub::ToWaiting { attendee } => self.set_stage(&attendee, Stage::Waiting).await,
            ToHub::Notice { attendee, text } => self.notice(&attendee, text),
            ToHub::HostMute { attendee, muted } => self.host_mute(&attendee, muted).await,
            ToHub::StopVideo { attendee, stopped } => self.stop_video(&attendee, stopped).await,
            ToHub::Upload(upload) => self.upload(upload).await,
            ToHub::Download(download) => self.download(download),
            ToHub::Remove { attendee } => self.remove_attendee(&attendee).await,
            ToHub::SideRoom { with, reply } => {
                let done = self.side_room(with.as_ref()).await;
                let _ = reply.send(done);
            }
        }
        None
    }

    /// Applies a joined client's message; returns a reason when the room must end.
    pub(super) async fn message(&mut self, conn: ConnId, msg: ClientMsg) -> Option<String> {
        let id = self.by_conn(conn)?;
        let host = self.members.get(&id).is_some_and(|m| m.host);
        match msg {
            ClientMsg::Offer(sdp) => self.offer(id, sdp).await,
            ClientMsg::Answer(sdp) => self.answer(id, sdp).await,
            // ICE-lite: the server learns addresses from connectivity checks.
            ClientMsg::Candidate(_) => {}
            ClientMsg::Mute { kind, muted } if self.may_unmute(id, kind, muted) => {
                self.mute(id, kind, muted).await;
            }
            ClientMsg::Mute { .. } => self.refuse(
                id,
                ErrorCode::NotHost,
                "a host of the group stopped your video; only a host can allow it again",
            ),
            ClientMsg::Prefer { audio_only } => self.prefer(id, audio_only).await,
            ClientMsg::View {
                participant,
                width,
                height,
            } => self.view(id, participant, width, height).await,
            ClientMsg::Chat { text } => self.chat(id, text).await,
            ClientMsg::ChatKeep => self.chat_keep(id).await,
            ClientMsg::Eject { participant } if host => self.eject(id, participant).await,
            ClientMsg::End if host => {
                if let Some(Member {
                    who: Who::Host(user),
                    ..
                }) = self.members.get(&id)
                {
                    self.ended_by = Some(EndedBy::Staff(user.clone()));
                }
                return Some(
                    match self.kind {
                        RoomKind::Test { .. } => "the host ended the call",
                        RoomKind::Consultation { .. } => "your consultation has ended",
                    }
                    .to_owned(),
                );
            }
            ClientMsg::Eject { .. } | ClientMsg::End => self.refuse(
                id,
                ErrorCode::NotHost,
                "only the host of the call may eject participants or end the call",
            ),
            ClientMsg::Leave => {
                self.remove(id).await;
                self.left_call(id);
                if let Some(c) = self.members.remove(&id).and_then(|m| m.conn) {
                    c.close(Close::LEFT);
                }
                self.broadcast_list(None);
                self.publish_waiting();
            }
            // Answered by the connection itself.
            ClientMsg::Join { .. } | ClientMsg::Ping => {}
        }
        None
    }
}
