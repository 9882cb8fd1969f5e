//! Staff sessions: the cookie holds a random token, the database its hash. Each request
//! checks the idle and absolute timeouts, the account's state and the sign-in stage.
//!
//! Handlers take [`Staff`] (fully signed in) or [`SignedIn`] (signed in, but possibly still
//! owing a password change); the extractor redirects anyone else to the right step.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use haven_domain::Role;
use haven_store::auth::{Session, SessionStage};
use haven_store::orgs::Org;
use haven_store::users::User;

use crate::web::{ClientInfo, CsrfToken, cookies, token_hash};
use crate::{AppState, Error};

/// How often a session's last activity is written.
const TOUCH_INTERVAL: haven_domain::time::Duration = haven_domain::time::Duration::minutes(1);

/// Someone signed in (password and any second factor done).
pub struct SignedIn {
    /// The account.
    pub user: User,
    /// The account's organisation.
    pub org: Org,
    /// The hash of the session token (to end this session).
    pub session_hash: String,
    /// The request's CSRF token, for forms.
    pub csrf: String,
    /// The client.
    pub client: ClientInfo,
}

/// Someone fully signed in who owes nothing (no pending password change).
pub struct Staff(pub SignedIn);

impl std::ops::Deref for Staff {
    type Target = SignedIn;
    fn deref(&self) -> &SignedIn {
        &self.0
    }
}

impl SignedIn {
    /// Fails with [`Error::Forbidden`] unless the user has `role`.
    pub fn require(&self, role: Role) -> Result<(), Error> {
        if self.user.roles.contains(role) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }
}

/// A session found from the request's cookie, whatever its stage.
pub struct LoadedSession {
    /// The session row.
    pub session: Session,
    /// The hash of its token.
    pub hash: String,
    /// The account.
    pub user: User,
}

/// Marks a route whose requests a page makes on its own (live updates): they are checked
/// like any other, but do not count as activity for the idle timeout. Added to a route with
/// `.layer(Extension(Passive))`.
#[derive(Debug, Clone, Copy)]
pub struct Passive;

/// Finds the request's session; ends it and returns `None` if it has expired or its account
/// has been disabled.
pub async fn load(parts: &Parts, state: &AppState) -> Result<Option<LoadedSession>, Error> {
    let https = client(parts).https;
    let Some(token) = cookies::get(&parts.headers, cookies::session_name(https)) else {
        return Ok(None);
    };
    let hash = token_hash(&token);
    let Some(session) = state.store.session(&hash).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let expired = state
        .config
        .session
        .check(session.created_at, session.last_seen_at, now)
        .is_err();
    let user = state.store.user(&session.org_id, &session.user_id).await?;
    if expired || user.disabled {
        let mut tx = state.store.begin().await?;
        tx.delete_session(&hash).await?;
        tx.commit().await?;
        return Ok(None);
    }
    // Record activity at most once a minute: the idle timeout stays accurate to a minute,
    // and page loads do not queue for SQLite's single writer. What a page fetches by itself
    // is not activity: an open live list must not keep an unattended session signed in.
    let passive = parts.extensions.get::<Passive>().is_some();
    if !passive && now - session.last_seen_at >= TOUCH_INTERVAL {
        let mut tx = state.store.begin().await?;
        tx.touch_session(&hash, now).await?;
        tx.commit().await?;
    }
    Ok(Some(LoadedSession {
        session,
        hash,
        user,
    }))
}

fn client(parts: &Parts) -> ClientInfo {
    *parts
        .extensions
        .get::<ClientInfo>()
        .expect("the client_info middleware runs before every handler")
}

fn csrf(parts: &Parts) -> String {
    parts
        .extensions
        .get::<CsrfToken>()
        .expect("the csrf middleware runs before every handler")
        .0
        .clone()
}

/// Sends the browser to sign in.
fn to_sign_in() -> Response {
    Redirect::to("/signin").into_response()
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let loaded = load(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(loaded) = loaded else {
            return Err(to_sign_in());
        };
        if loaded.session.stage == SessionStage::NeedsMfa {
            let next = if loaded.user.totp_secret.is_some() {
                "/signin/mfa"
            } else {
                "/account/mfa"
            };
            return Err(Redirect::to(next).into_response());
        }
        let org = state
            .store
            .org(&loaded.user.org_id)
            .await
            .map_err(|e| Error::from(e).into_response())?;
        // A policy turned on after this session began still applies at once.
        if org.policy.mfa_required && loaded.user.totp_secret.is_none() {
            return Err(Redirect::to("/account/mfa").into_response());
        }
        Ok(SignedIn {
            user: loaded.user,
            org,
            session_hash: loaded.hash,
            csrf: csrf(parts),
            client: client(parts),
        })
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        if signed_in.user.must_change_password {
            return Err(Redirect::to("/account/password").into_response());
        }
        Ok(Staff(signed_in))
    }
}
