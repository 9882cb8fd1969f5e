//! The signalling WebSocket (`/ws`, protocol version 1): connecting, sending JSON messages
//! and reading the server's, with every wait bounded.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use url::Url;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
/// The sending half of a joined peer's WebSocket.
pub type Sink = SplitSink<Socket, Message>;

/// Messages from the reader task; a few are plenty, the server sends little.
const READER_QUEUE: usize = 16;

/// What the server sent: a message, or the end of the connection.
#[derive(Debug)]
pub enum Incoming {
    Msg(Value),
    /// The close frame's code and reason, if there was one.
    Closed(Option<(u16, String)>),
}

impl Incoming {
    /// A short description of a message that ends a peer's part in the run.
    pub fn describe(&self) -> String {
        match self {
            Incoming::Msg(m) => {
                let ty = m["type"].as_str().unwrap_or("?");
                match (
                    m["code"].as_str(),
                    m["message"].as_str(),
                    m["reason"].as_str(),
                ) {
                    (Some(code), Some(msg), _) => format!("{ty} {code}: {msg}"),
                    (_, _, Some(reason)) => format!("{ty}: {reason}"),
                    _ => ty.to_owned(),
                }
            }
            Incoming::Closed(Some((code, reason))) => {
                format!("the WebSocket was closed ({code} {reason})")
            }
            Incoming::Closed(None) => "the WebSocket ended".to_owned(),
        }
    }
}

/// Opens `/ws` on the server, sending the staff session's cookies if given.
pub async fn connect(base: &Url, cookie: Option<&str>, within: Duration) -> anyhow::Result<Socket> {
    let mut url = base.join("/ws")?;
    let scheme = match url.scheme() {
        "http" => "ws",
        "https" => bail!("--server must be plain http:// (the load generator speaks ws:// only)"),
        other => bail!("--server has an unsupported scheme {other}"),
    };
    url.set_scheme(scheme)
        .map_err(|()| anyhow!("cannot make a ws:// URL"))?;
    let mut req = url.as_str().into_client_request()?;
    if let Some(cookie) = cookie {
        req.headers_mut().insert(
            "cookie",
            cookie.parse().context("an invalid cookie header")?,
        );
    }
    let (socket, _) = timeout(within, tokio_tungstenite::connect_async(req))
        .await
        .context("the WebSocket did not open in time")?
        .context("the WebSocket upgrade failed")?;
    Ok(socket)
}

pub async fn send<S>(socket: &mut S, value: &Value) -> anyhow::Result<()>
where
    S: SinkExt<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .context("sending on the WebSocket")
}

/// Reads the socket on a task of its own and hands over what matters, ending with the
/// connection's end. A peer's busy media loop then waits on a channel: polling the
/// WebSocket itself on every turn would make the WebSocket library prepare its read
/// buffer each time, which costs more than the media.
pub fn spawn_reader(mut stream: SplitStream<Socket>) -> (mpsc::Receiver<Incoming>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(READER_QUEUE);
    let task = tokio::spawn(async move {
        loop {
            let frame = stream.next().await;
            let Some(incoming) = incoming(frame) else {
                continue;
            };
            let end = matches!(incoming, Incoming::Closed(_));
            if tx.send(incoming).await.is_err() || end {
                return;
            }
        }
    });
    (rx, task)
}

/// Turns one WebSocket frame (or the end of the stream) into what the peer acts on;
/// `None` for frames without meaning here (pings, binary).
pub fn incoming(
    frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
) -> Option<Incoming> {
    match frame {
        Some(Ok(Message::Text(t))) => match serde_json::from_str::<Value>(t.as_str()) {
            Ok(v) => Some(Incoming::Msg(v)),
            Err(_) => Some(Incoming::Msg(json!({"type": "unparsable"}))),
        },
        Some(Ok(Message::Close(frame))) => Some(Incoming::Closed(
            frame.map(|f| (u16::from(f.code), f.reason.to_string())),
        )),
        Some(Ok(_)) => None,
        Some(Err(_)) | None => Some(Incoming::Closed(None)),
    }
}

/// Reads until a message of type `ty`, within `within`; `participants` and `mute` updates
/// are skipped, anything else is an error naming what came instead.
pub async fn expect(socket: &mut Socket, ty: &str, within: Duration) -> anyhow::Result<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .with_context(|| format!("no {ty:?} message within {within:?}"))?;
        match incoming(frame) {
            Some(Incoming::Msg(m)) if m["type"] == ty => return Ok(m),
            Some(Incoming::Msg(m)) if m["type"] == "participants" || m["type"] == "mute" => {}
            Some(other) => bail!("expected {ty:?}, got {}", other.describe()),
            None => {}
        }
    }
}
