//! The router and the listening socket.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path};
use axum::http::header;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;

use crate::web::{BODY_LIMIT, client_info, csrf, log_requests, security_headers};
use crate::{AppState, Error, api, invites, ops, pages, signal};

/// Static files (styles, scripts), built into the binary.
#[derive(Embed)]
#[folder = "../../web/"]
struct Assets;

async fn asset(Path(path): Path<String>) -> Response {
    match Assets::get(&path) {
        Some(file) => {
            let mime = match path.rsplit('.').next() {
                Some("css") => "text/css; charset=utf-8",
                Some("js") => "text/javascript; charset=utf-8",
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                _ => "application/octet-stream",
            };
            (
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "public, max-age=3600"),
                ],
                file.data,
            )
                .into_response()
        }
        None => Error::NotFound.into_response(),
    }
}

async fn health() -> &'static str {
    "ok"
}

/// The whole application. Middleware order (outermost first): request log, client info,
/// security headers, CSRF, body limit.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::home::routes())
        .merge(pages::setup::routes())
        .merge(pages::signin::routes())
        .merge(pages::account::routes())
        .merge(pages::admin::routes())
        .merge(pages::clinics::routes())
        .merge(pages::consultations::routes())
        .merge(pages::join::routes())
        .merge(pages::precheck::routes())
        .merge(pages::journey::routes())
        .merge(pages::governance::routes())
        .merge(pages::admit::routes())
        .merge(pages::group_host::routes())
        .merge(pages::notes::routes())
        .merge(pages::people::routes())
        .merge(pages::transfer::routes())
        .merge(pages::waiting::routes())
        .merge(pages::meetings::routes())
        .merge(pages::audit::routes())
        .merge(signal::routes())
        .route("/assets/{*path}", get(asset))
        .route("/healthz", get(health))
        .fallback(|| async { Error::NotFound })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn(csrf))
        // Merged after the CSRF layer, so it alone skips it: Notify's receipts carry a
        // bearer token, never cookies, and cannot hold a CSRF token.
        .merge(invites::callbacks::routes())
        // The API authenticates every call by a bearer key and sets no cookie: no CSRF.
        .merge(api::routes())
        // Authenticated by a key in a header, never by cookies, as the API is.
        .merge(signal::files::routes())
        .layer(from_fn_with_state(state.clone(), security_headers))
        .layer(from_fn_with_state(state.clone(), client_info))
        .layer(from_fn(log_requests))
        .with_state(state)
}

/// Starts the media server, the invitation worker and the daily retention job, then serves `router` on `listener`
/// until the process is asked to stop.
pub async fn serve(state: AppState, listener: std::net::TcpListener) -> anyhow::Result<()> {
    // From here on a stop signal means a graceful stop: a service manager may send one the
    // moment the server says it is running.
    let stop = shutdown_signal();
    let config = state.config.clone();
    state
        .live
        .start_media()
        .await
        .map_err(|e| anyhow::anyhow!("media: {e}"))?;
    // Runs until the process ends; a step that fails or panics is logged and retried.
    let _outbox = invites::worker::spawn(&state).map_err(|e| anyhow::anyhow!("invites: {e}"))?;
    // Daily, by the injected clock; runs until the process ends.
    let _retention = ops::retention::spawn(state.store.clone(), state.clock.clone());
    let _records =
        crate::record::worker::spawn(&state).map_err(|e| anyhow::anyhow!("record: {e}"))?;
    let engine = state.store.engine();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    listener.set_nonblocking(true)?;
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    tokio::spawn(async move {
        stop.await;
        shutdown.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    let bound = listener
        .local_addr()
        .map_or_else(|_| config.listen.to_string(), |a| a.to_string());
    // Only now: the media socket is bound, and stop signals are handled.
    tracing::info!(listen = %bound, public_url = %config.public_url, ?engine, "Haven is running");
    match &config.tls {
        Some(tls) => {
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            let rustls =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key).await?;
            axum_server::from_tcp_rustls(listener, rustls)?
                .handle(handle)
                .serve(app)
                .await?;
        }
        None => {
            axum_server::from_tcp(listener)?
                .handle(handle)
                .serve(app)
                .await?
        }
    }
    Ok(())
}

/// Listens for SIGTERM and Ctrl-C from the moment it is called (not from the first poll);
/// the future completes at the first of them.
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind| {
            signal(kind).expect("installing a signal handler only fails if signals are unavailable")
        };
        let mut term = listen(SignalKind::terminate());
        let mut interrupt = listen(SignalKind::interrupt());
        async move {
            tokio::select! { _ = term.recv() => {}, _ = interrupt.recv() => {} }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
