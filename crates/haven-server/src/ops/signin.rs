//! Staff sign-in: password, then a second factor, with brute-force throttling per account
//! and per client address, and the same answer for unknown accounts as for wrong passwords.

use std::net::IpAddr;

use haven_domain::audit::Actor;
use haven_domain::throttle::{self, MAX_FAILURES, WINDOW};
use haven_domain::time::OffsetDateTime;
use haven_domain::{Email, TotpSecret, UserId};
use haven_store::Store;
use haven_store::auth::SessionStage;
use haven_store::users::User;

use crate::Error;
use crate::ops::Context;
use crate::ops::accounts::verify;
use crate::pii::Pii;
use crate::web::{random_token, token_hash};

/// Why a sign-in step did not succeed.
#[derive(Debug)]
pub enum Refused {
    /// Wrong email, password or code; deliberately says no more than that.
    Wrong,
    /// Too many failures: no check was made; try again after this many minutes.
    Locked {
        /// Whole minutes, rounded up.
        minutes: i64,
    },
    /// Something failed on our side.
    Internal(Error),
}

impl From<Error> for Refused {
    fn from(e: Error) -> Refused {
        Refused::Internal(e)
    }
}

impl From<haven_store::Error> for Refused {
    fn from(e: haven_store::Error) -> Refused {
        Refused::Internal(e.into())
    }
}

/// A new session: the cookie value, and where to send the browser next.
pub struct Started {
    /// The session token for the cookie (only its hash is stored).
    pub token: String,
    /// The next page: the second factor, MFA enrolment, a password change, or home.
    pub next: &'static str,
}

fn addr_key(addr: IpAddr) -> String {
    format!("addr:{addr}")
}

fn account_key(user: Option<&User>, email: &str) -> String {
    match user {
        Some(u) => format!("user:{}", u.id),
        // Unknown accounts are throttled too (so they look the same), keyed by a hash so
        // the database never holds what a stranger typed.
        None => format!("unknown:{}", token_hash(&email.trim().to_lowercase())),
    }
}

/// How long the keys are locked, if they are.
async fn locked(store: &Store, keys: &[&str], now: OffsetDateTime) -> Result<Option<i64>, Refused> {
    let mut longest = None;
    for key in keys {
        let failures = store.failures_since(key, now - WINDOW).await?;
        if let Some(wait) = throttle::lockout(&failures, now) {
            let minutes = throttle::minutes_to_wait(wait);
            longest = Some(longest.map_or(minutes, |m: i64| m.max(minutes)));
        }
    }
    Ok(longest)
}

/// Records a failure against each key; audits it, and audits a lock-out the moment one
/// begins.
async fn fail(
    store: &Store,
    ctx: &Context,
    keys: &[&str],
    user: Option<&User>,
    action: &str,
) -> Result<Refused, Refused> {
    let mut tx = store.begin().await?;
    for key in keys {
        tx.record_failure(key, ctx.now, ctx.now - WINDOW).await?;
    }
    let object = user.map_or("account:unknown".to_string(), |u| format!("user:{}", u.id));
    let org = user.map(|u| &u.org_id);
    ctx.audit(&mut tx, org, action, &object, "").await?;
    tx.commit().await?;
    if let Some(minutes) = locked(store, keys, ctx.now).await? {
        let mut tx = store.begin().await?;
        let detail = format!(
            "{MAX_FAILURES} failed attempts within {} minutes",
            WINDOW.whole_minutes()
        );
        ctx.audit(&mut tx, org, "staff.locked_out", &object, &detail)
            .await?;
        tx.commit().await?;
        tracing::warn!(minutes, "sign-in locked out");
    }
    Ok(Refused::Wrong)
}

/// Checks an email address and password; on success starts a session at the right stage.
pub async fn password(
    store: &Store,
    client: IpAddr,
    now: OffsetDateTime,
    email: &str,
    password: &str,
) -> Result<Started, Refused> {
    let user = match Email::parse(email) {
        Ok(e) => store.user_by_email(&e).await?,
        Err(_) => None,
    };
    let addr = addr_key(client);
    let account = account_key(user.as_ref(), email);
    let keys = [account.as_str(), addr.as_str()];
    if let Some(minutes) = locked(store, &keys, now).await? {
        return Err(Refused::Locked { minutes });
    }
    let hash = user
        .as_ref()
        .filter(|u| !u.disabled)
        .and_then(|u| u.password_hash.clone());
    let right = verify(hash, password.to_string()).await;
    let actor = user
        .as_ref()
        .map_or(Actor::System, |u| Actor::Staff(u.id.clone()));
    let ctx = Context {
        actor,
        client_addr: Some(client.to_string()),
        now,
    };
    let user = match user {
        Some(user) if right => user,
        other => {
            tracing::info!(email = %Pii(email), "sign-in refused");
            return Err(fail(store, &ctx, &keys, other.as_ref(), "staff.sign_in_failed").await?);
        }
    };
    let org = store.org(&user.org_id).await?;
    let needs_mfa = user.totp_secret.is_some() || org.policy.mfa_required;
    let stage = if needs_mfa {
        SessionStage::NeedsMfa
    } else {
        SessionStage::Complete
    };
    let token = random_token();
    let mut tx = store.begin().await?;
    tx.create_session(&token_hash(&token), &user.id, &user.org_id, stage, now)
        .await?;
    let object = format!("user:{}", user.id);
    if needs_mfa {
        ctx.audit(
            &mut tx,
            Some(&user.org_id),
            "staff.password_accepted",
            &object,
            "second factor next",
        )
        .await?;
    } else {
        ctx.audit(
            &mut tx,
            Some(&user.org_id),
            "staff.sign_in",
            &object,
            "password",
        )
        .await?;
    }
    tx.commit().await?;
    let next = match (
        needs_mfa,
        user.totp_secret.is_some(),
        user.must_change_password,
    ) {
        (true, true, _) => "/signin/mfa",
        (true, false, _) => "/account/mfa",
        (false, _, true) => "/account/password",
        (false, _, false) => "/",
    };
    Ok(Started { token, next })
}

/// Checks a TOTP code or a recovery code for a session waiting for its second factor.
pub async fn second_factor(
    store: &Store,
    client: IpAddr,
    now: OffsetDateTime,
    session_hash: &str,
    user: &User,
    code: &str,
) -> Result<&'static str, Refused> {
    let addr = addr_key(client);
    let account = account_key(Some(user), "");
    let keys = [account.as_str(), addr.as_str()];
    if let Some(minutes) = locked(store, &keys, now).await? {
        return Err(Refused::Locked { minutes });
    }
    let ctx = Context {
        actor: Actor::Staff(user.id.clone()),
        client_addr: Some(client.to_string()),
        now,
    };
    let Some(secret) = &user.totp_secret else {
        return Err(Refused::Wrong);
    };
    let mut tx = store.begin().await?;
    let how = match check_code(&mut tx, secret, &user.id, user.totp_last_step, code, now).await? {
        Some(how) => how,
        None => {
            drop(tx);
            return Err(fail(store, &ctx, &keys, Some(user), "staff.mfa_failed").await?);
        }
    };
    tx.set_session_stage(session_hash, SessionStage::Complete)
        .await?;
    ctx.audit(
        &mut tx,
        Some(&user.org_id),
        "staff.sign_in",
        &format!("user:{}", user.id),
        how,
    )
    .await?;
    tx.commit().await?;
    Ok(if user.must_change_password {
        "/account/password"
    } else {
        "/"
    })
}

/// Accepts a current TOTP code (once) or an unused recovery code; says which.
async fn check_code(
    tx: &mut haven_store::Tx,
    secret: &TotpSecret,
    user: &UserId,
    last_step: Option<i64>,
    code: &str,
    now: OffsetDateTime,
) -> Result<Option<&'static str>, Refused> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        let Some(step) =
            haven_domain::totp::verify(secret, &digits, now.unix_timestamp(), last_step)
        else {
            return Ok(None);
        };
        return Ok(tx
            .use_totp_step(user, step)
            .await?
            .then_some("password and authenticator code"));
    }
    let hash =
        haven_domain::totp::recovery_code_hash(&haven_domain::totp::normalise_recovery_code(code));
    Ok(tx
        .use_recovery_code(user, &hash, now)
        .await?
        .then_some("password and recovery code"))
}
