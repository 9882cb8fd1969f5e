//! Janus's WebSocket API (the `janus-protocol` subprotocol): connecting, requests with a
//! transaction, and reading a request's reply while keeping what else arrived.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use url::Url;

use crate::signal::{self, Incoming, Socket};

pub const VIDEOROOM: &str = "janus.plugin.videoroom";

/// Opens Janus's WebSocket.
pub async fn connect(url: &Url, within: Duration) -> anyhow::Result<Socket> {
    let mut req = url.as_str().into_client_request()?;
    req.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("janus-protocol"),
    );
    let (socket, _) = timeout(within, tokio_tungstenite::connect_async(req))
        .await
        .context("Janus's WebSocket did not open in time")?
        .context("connecting to Janus's WebSocket")?;
    Ok(socket)
}

/// A fresh transaction id; `kind` says what the reply answers, for the peer's dispatch.
pub fn transaction(kind: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{kind}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The kind a transaction id was made with.
pub fn kind_of(transaction: &str) -> &str {
    transaction.rsplit_once('-').map_or("", |(kind, _)| kind)
}

/// Sends a request and waits for its reply (an acknowledgement is not one), within
/// `within`; anything else that arrives meanwhile is kept in `other`.
pub async fn call(
    socket: &mut Socket,
    mut body: Value,
    within: Duration,
    other: &mut Vec<Value>,
) -> anyhow::Result<Value> {
    let tx = transaction("call");
    body["transaction"] = json!(tx);
    signal::send(socket, &body).await?;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .with_context(|| format!("Janus did not answer {} within {within:?}", body["janus"]))?;
        match signal::incoming(frame) {
            Some(Incoming::Msg(m)) if m["transaction"] == tx.as_str() && m["janus"] != "ack" => {
                return checked(m);
            }
            Some(Incoming::Msg(m)) if m["janus"] != "ack" => other.push(m),
            Some(Incoming::Msg(_)) | None => {}
            Some(closed) => bail!("{}", closed.describe()),
        }
    }
}

/// A reply, or the error Janus or the videoroom plugin put in it.
pub fn checked(m: Value) -> anyhow::Result<Value> {
    if m["janus"] == "error" {
        bail!(
            "Janus error {}: {}",
            m["error"]["code"],
            m["error"]["reason"].as_str().unwrap_or("?")
        );
    }
    let data = &m["plugindata"]["data"];
    if !data["error_code"].is_null() {
        bail!(
            "videoroom error {}: {}",
            data["error_code"],
            data["error"].as_str().unwrap_or("?")
        );
    }
    Ok(m)
}

/// Creates a session and attaches the videoroom plugin; returns (session, handle).
pub async fn session(
    socket: &mut Socket,
    within: Duration,
    other: &mut Vec<Value>,
) -> anyhow::Result<(u64, u64)> {
    let created = call(socket, json!({"janus": "create"}), within, other).await?;
    let session = created["data"]["id"]
        .as_u64()
        .context("Janus created a session without an id")?;
    let handle = attach(socket, session, within, other).await?;
    Ok((session, handle))
}

/// Attaches the videoroom plugin to a session: a new handle.
pub async fn attach(
    socket: &mut Socket,
    session: u64,
    within: Duration,
    other: &mut Vec<Value>,
) -> anyhow::Result<u64> {
    let body = json!({"janus": "attach", "session_id": session, "plugin": VIDEOROOM});
    let attached = call(socket, body, within, other).await?;
    attached["data"]["id"]
        .as_u64()
        .context("Janus attached a handle without an id")
}

/// A plugin message on a handle, with an optional SDP offer or answer.
pub fn message(session: u64, handle: u64, body: Value, jsep: Option<(&str, String)>) -> Value {
    let mut m =
        json!({"janus": "message", "session_id": session, "handle_id": handle, "body": body});
    if let Some((kind, sdp)) = jsep {
        m["jsep"] = json!({"type": kind, "sdp": sdp});
    }
    m
}

/// Tells Janus a handle has no more candidates than those in its SDP.
pub fn trickle_done(session: u64, handle: u64) -> Value {
    json!({"janus": "trickle", "session_id": session, "handle_id": handle,
           "transaction": transaction("trickle"), "candidate": {"completed": true}})
}
