//! Who is asking: the client's address and whether they came over HTTPS, believing
//! `X-Forwarded-*` headers only from configured proxies.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// The client of this request, as far as Haven can tell.
#[derive(Debug, Clone, Copy)]
pub struct ClientInfo {
    /// The client's address (the peer, or the address a trusted proxy reported).
    pub addr: IpAddr,
    /// Whether the client reaches Haven over HTTPS: Haven's own TLS, an HTTPS public
    /// address (a TLS proxy in front), or a trusted proxy's `X-Forwarded-Proto: https`.
    pub https: bool,
}

/// Middleware that works out [`ClientInfo`] and puts it in the request's extensions.
pub async fn client_info(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let proxies = &state.config.trusted_proxies;
    // An HTTPS public address means people reach Haven through TLS even when no proxy
    // says so: its cookies must be `Secure` (as its HSTS header already says).
    let mut info = ClientInfo {
        addr: peer,
        https: state.config.is_https(),
    };
    if proxies.contains(peer) {
        // Walk X-Forwarded-For from the right: the first address that is not one of our
        // proxies is the client; anything left of it could have been written by the client.
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        if let Some(client) = forwarded.iter().rev().find(|a| !proxies.contains(**a)) {
            info.addr = *client;
        }
        if let Some(proto) = req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
        {
            // A proxy can tell us a connection was HTTPS, never take that away.
            info.https |= proto.trim().eq_ignore_ascii_case("https");
        }
    }
    req.extensions_mut().insert(info);
    next.run(req).await
}
