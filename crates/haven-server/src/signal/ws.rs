//! The `/ws` endpoint: one reader loop and one writer task per WebSocket.
//!
//! The reader parses every frame once (`protocol`), rate-limits, counts errors, handles
//! `join` and `ping` itself and passes everything else to the room's hub. The writer drains
//! the connection's bounded queue (`conn.rs`) and, when asked to close, flushes what was
//! queued, sends a close frame with the reason and stops; the reader stops with it.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use futures_util::stream::{SplitSink, StreamExt};
use haven_domain::ConsultationId;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, timeout};

use super::conn::{Close, Conn, ConnId, ConnQueues};
use super::hub::ToHub;
use super::live::{Live, LiveError, StaffMember};
use super::protocol::{self, ClientMsg, ErrorCode, PROTOCOL_VERSION, ProtocolError, ServerMsg};
use super::rate::{BURST, RATE_PER_SECOND, TokenBucket};
use crate::web::Staff;
use crate::{AppState, Error};

/// After this many refused messages the connection is closed.
pub const MAX_ERRORS: u32 = 10;
/// A client must `join` this soon after connecting.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// A write that takes longer than this means the client is not reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Frames up to this size reach the parser, which refuses those over `MAX_FRAME` with an
/// error; larger ones end the connection in the WebSocket library.
const MAX_INBOUND: usize = 1024 * 1024;
/// What the WebSocket library reads into at a time. Its default, 128 KiB, is zero-filled
/// on every read and so resident for every open connection, a waiting patient's included;
/// signalling messages are a few KiB (an SDP offer the largest), and a larger one still
/// arrives whole, over several reads.
const READ_BUFFER: usize = 8 * 1024;

/// `GET /ws`: upgrades to a WebSocket. A staff session cookie, if valid, is remembered for
/// `join`; a browser page from another origin is refused (cross-site WebSocket hijacking).
pub(crate) async fn upgrade(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, _body) = req.into_parts();
    if let Some(origin) = parts.headers.get(header::ORIGIN)
        && !same_origin(origin.as_bytes(), &state.config.public_url)
    {
        return Error::Forbidden.into_response();
    }
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let staff = Staff::from_request_parts(&mut parts, &state)
        .await
        .ok()
        .map(|s| StaffMember {
            user: s.user.id.clone(),
            org: s.org.id.clone(),
            roles: s.user.roles,
        });
    let live = state.live.clone();
    ws.max_message_size(MAX_INBOUND)
        .max_frame_size(MAX_INBOUND)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| run(socket, live, staff))
}

/// Whether an `Origin` header names the origin of `public_url`.
fn same_origin(origin: &[u8], public_url: &str) -> bool {
    let Ok(url) = url::Url::parse(public_url) else {
        return false;
    };
    url.origin().ascii_serialization().as_bytes() == origin
}

async fn run(socket: WebSocket, live: Arc<Live>, staff: Option<StaffMember>) {
    let (sink, mut stream) = socket.split();
    let (conn, queues) = Conn::new();
    let mut writer = tokio::spawn(write_loop(sink, queues));
    let mut reader = Reader {
        live,
        staff,
        conn,
        joined: None,
        errors: 0,
        bucket: TokenBucket::new(RATE_PER_SECOND, BURST, std::time::Instant::now()),
        closing: false,
    };
    let join_by = Instant::now() + JOIN_TIMEOUT;
    let mut writer_done = false;
    loop {
        let awaiting_join = reader.joined.is_none() && !reader.closing;
        tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(message)) => reader.frame(message).await,
                // The client went away (or broke the WebSocket protocol).
                _ => break,
            },
            _ = &mut writer => {
                writer_done = true;
                break;
            }
            () = tokio::time::sleep_until(join_by), if awaiting_join => {
                reader.conn.close(Close::JOIN_TIMEOUT);
                reader.closing = true;
            }
        }
    }
    if let Some((hub, conn)) = reader.joined.take() {
        let _ = hub.send(ToHub::Gone { conn }).await;
    }
    if !writer_done {
        writer.abort();
    }
}

/// The reading side of one connection.
struct Reader {
    live: Arc<Live>,
    /// The staff member whose session cookie came with the upgrade.
    staff: Option<StaffMember>,
    conn: Conn,
    /// The room's hub and this connection's id there, once joined.
    joined: Option<(mpsc::Sender<ToHub>, ConnId)>,
    /// Messages refused so far.
    errors: u32,
    bucket: TokenBucket,
    /// A close has been asked for: further frames are ignored.
    closing: bool,
}

impl Reader {
    async fn frame(&mut self, message: Message) {
        if self.closing {
            return;
        }
        let text = match message {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
            // The library answers pings; a close ends the stream next.
            Message::Ping(_) | Message::Pong(_) | Message::Close(_) => return,
        };
        if !self.bucket.take(std::time::Instant::now()) {
            self.conn.send(ServerMsg::error(ProtocolError::new(
                ErrorCode::RateLimited,
                format!(
                    "more than {RATE_PER_SECOND} messages a second (bursts of {BURST}); the connection is closed"
                ),
            )));
            self.shut(Close::RATE_LIMITED);
            return;
        }
        let Some(text) = text else {
            self.refuse(ProtocolError::new(
                ErrorCode::BinaryFrame,
                "binary frames are not part of the protocol; send JSON text frames",
            ));
            return;
        };
        match protocol::parse(text.as_str()) {
            Ok(msg) => self.dispatch(msg).await,
            Err(e) => self.refuse(e),
        }
    }

    async fn dispatch(&mut self, msg: ClientMsg) {
        match (&self.joined, msg) {
            (
                None,
                ClientMsg::Join {
                    v,
                    seat,
                    invite,
                    consultation,
                },
            ) => self.join(v, seat, invite, consultation).await,
            (_, ClientMsg::Ping) => {
                self.conn.send(ServerMsg::Pong {});
            }
            (None, _) => self.refuse(ProtocolError::new(
                ErrorCode::NotJoined,
                "the first message must be \"join\"",
            )),
            (Some(_), ClientMsg::Join { .. }) => self.refuse(ProtocolError::new(
                ErrorCode::AlreadyJoined,
                "this connection has already joined; \"join\" is sent once",
            )),
            (Some((hub, conn)), msg) => {
                let sent = hub.send(ToHub::Msg { conn: *conn, msg }).await;
                if sent.is_err() {
                    self.gone(LiveError::Ended);
                }
            }
        }
    }

    async fn join(
        &mut self,
        v: u64,
        seat: Option<String>,
        invite: Option<String>,
        consultation: Option<ConsultationId>,
    ) {
        if v != PROTOCOL_VERSION {
            self.conn.send(ServerMsg::error(ProtocolError::new(
                ErrorCode::UnsupportedVersion,
                format!(
                    "this server speaks version {PROTOCOL_VERSION} of the protocol, not version {v}"
                ),
            )));
            self.shut(Close::UNSUPPORTED_VERSION);
            return;
        }
        let found = match (invite, consultation) {
            (Some(token), _) => self.live.join_invite(&token).await,
            (None, Some(id)) => match &self.staff {
                Some(staff) => self.live.join_consultation(staff, &id).await,
                None => Err(LiveError::Unauthenticated),
            },
            (None, None) => {
                let seat = match seat.as_deref().map(super::seats::SeatToken::parse) {
                    None => None,
                    Some(Ok(token)) => Some(token),
                    Some(Err(_)) => return self.gone(LiveError::BadSeat),
                };
                let user = self.staff.as_ref().map(|s| s.user.clone());
                self.live.admit(seat.as_ref(), user.as_ref())
            }
        };
        let (hub, who) = match found {
            Ok(found) => found,
            Err(e) => return self.gone(e),
        };
        let (reply, answer) = oneshot::channel();
        let asked = ToHub::Join {
            who,
            conn: self.conn.clone(),
            reply,
        };
        if hub.send(asked).await.is_err() {
            return self.gone(LiveError::Ended);
        }
        match answer.await {
            Ok(Ok(())) => self.joined = Some((hub, self.conn.id())),
            Ok(Err(e)) => self.gone(e),
            Err(_) => self.gone(LiveError::Ended),
        }
    }

    /// Refuses a join (or a message to a room that has ended) and closes.
    fn gone(&mut self, why: LiveError) {
        let (code, close) = match why {
            LiveError::NoMedia | LiveError::Ended | LiveError::Media(_) => {
                (ErrorCode::RoomEnded, Close::ROOM_GONE)
            }
            LiveError::BadSeat
            | LiveError::NoRoom
            | LiveError::Unauthenticated
            | LiveError::IdentityNotChecked
            | LiveError::Removed
            | LiveError::NotClinician => (ErrorCode::Unauthenticated, Close::UNAUTHENTICATED),
            LiveError::Store(ref cause) => {
                tracing::error!(error = %cause, "a join could not be checked");
                (ErrorCode::RoomEnded, Close::ROOM_GONE)
            }
        };
        self.conn
            .send(ServerMsg::error(ProtocolError::new(code, why.to_string())));
        self.shut(close);
    }

    /// Reports a refused message; the tenth closes the connection.
    fn refuse(&mut self, e: ProtocolError) {
        self.errors += 1;
        self.conn.send(ServerMsg::error(e));
        if self.errors >= MAX_ERRORS {
            self.shut(Close::TOO_MANY_ERRORS);
        }
    }

    fn shut(&mut self, why: Close) {
        self.conn.close(why);
        self.closing = true;
    }
}

/// Writes queued messages; on a close request, flushes the queue, sends the close frame
/// and returns (which ends the reader too).
async fn write_loop(mut sink: SplitSink<WebSocket, Message>, mut queues: ConnQueues) {
    loop {
        tokio::select! {
            biased;
            why = queues.close.recv() => {
                let Some(why) = why else { return };
                while let Ok(msg) = queues.out.try_recv() {
                    if !write(&mut sink, msg).await {
                        return;
                    }
                }
                let frame = CloseFrame {
                    code: why.code,
                    reason: why.reason.into(),
                };
                let _ = timeout(WRITE_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
                return;
            }
            msg = queues.out.recv() => match msg {
                Some(msg) => if !write(&mut sink, msg).await {
                    return;
                },
                None => return,
            },
        }
    }
}

/// Writes one message; false if the socket failed or the client stopped reading.
async fn write(sink: &mut SplitSink<WebSocket, Message>, msg: ServerMsg) -> bool {
    let frame = Message::Text(msg.to_json().into());
    matches!(timeout(WRITE_TIMEOUT, sink.send(frame)).await, Ok(Ok(())))
}
