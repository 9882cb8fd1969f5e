//! GOV.UK Notify's delivery receipts: `POST /callbacks/notify` with the configured bearer
//! token and a JSON body `{id, reference, to, status, …}`.
//!
//! Machine to machine: authenticated by the bearer token (compared in constant time), not
//! by cookies, so the router mounts it outside the CSRF check. The body holds the
//! recipient's number or address (`to`): only `id` and `status` are read, and neither the
//! body nor a parse error (which can quote it) is logged. An id Haven does not know is
//! answered 200 like any other, so the answer reveals nothing.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use haven_domain::audit::Actor;
use haven_store::outbox::{MessageStatus, Receipt};
use serde::Deserialize;

use crate::config::InviteChannel;
use crate::ops::Context;
use crate::web::BODY_LIMIT;
use crate::{AppState, Error};

/// `POST /callbacks/notify`; mount it outside the CSRF layer (see `serve::router`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/callbacks/notify", post(notify_receipt))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The fields of a receipt Haven uses; the rest (`to` above all) are not even parsed.
#[derive(Deserialize)]
struct NotifyReceipt {
    id: String,
    status: String,
}

/// The reason staff see for each final failure status Notify reports.
fn failure_reason(status: &str) -> Option<&'static str> {
    Some(match status {
        "permanent-failure" => {
            "Notify could not deliver it: the number or address does not exist \
             (permanent-failure)"
        }
        "temporary-failure" => {
            "Notify could not deliver it: the phone was off or the inbox full for too long \
             (temporary-failure)"
        }
        "technical-failure" => {
            "Notify could not deliver it: a problem at Notify (technical-failure)"
        }
        _ => return None,
    })
}

async fn notify_receipt(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Error> {
    let InviteChannel::Notify(settings) = &state.config.invites.channel else {
        return Err(Error::NotFound);
    };
    let Some(expected) = &settings.callback_token else {
        return Err(Error::NotFound);
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !expected.matches(presented) {
        return Ok(StatusCode::UNAUTHORIZED);
    }
    let Ok(receipt) = serde_json::from_slice::<NotifyReceipt>(&body) else {
        return Err(Error::BadRequest(
            "the body is not a Notify delivery receipt".into(),
        ));
    };
    let outcome = match receipt.status.as_str() {
        "delivered" => Receipt::Delivered,
        other => match failure_reason(other) {
            Some(reason) => Receipt::Failed(reason),
            // created, sending, pending, sent: not final, nothing to record.
            None => return Ok(StatusCode::OK),
        },
    };
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let Some(message) = tx.apply_receipt(&receipt.id, outcome, now).await? else {
        return Ok(StatusCode::OK);
    };
    if message.status == MessageStatus::Failed {
        let ctx = Context {
            actor: Actor::System,
            client_addr: None,
            now,
        };
        let detail = format!(
            "message {}: {}",
            message.id,
            message.reason.as_deref().unwrap_or_default()
        );
        let object = format!("attendee:{}", message.attendee_id);
        ctx.audit(
            &mut tx,
            Some(&message.org_id),
            "invite.failed",
            &object,
            &detail,
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(message = %message.id, status = %message.status, "delivery receipt");
    Ok(StatusCode::OK)
}
