//! The one-time code step of joining: where the organisation's identity check asks for it
//! and a mobile number was booked, a code goes by text message (through the outbox) after
//! the person confirms their name and date of birth, and must be entered before they can
//! wait for the clinician. The rules are `haven_domain::identity_code`'s; here they meet
//! the store, the outbox and the audit log. No code value is ever audited or logged.

use haven_domain::identity_code::{CodeStatus, OneTimeCode, SEND_WINDOW, Verdict, send_wait};
use haven_domain::{MessageId, OrgId};
use haven_store::Store;
use haven_store::consultations::Attendee;

use super::{Context, new_id};
use crate::invites::ops::channel;
use crate::{AppState, Error, FieldErrors};

/// Where `attendee` of the organisation stands with the code.
pub async fn status(store: &Store, org: &OrgId, attendee: &Attendee) -> Result<CodeStatus, Error> {
    let check = store.org(org).await?.policy.identity_check;
    let record = store.identity_code(org, &attendee.id).await?;
    Ok(CodeStatus::of(
        check,
        attendee.mobile.is_some(),
        record.as_ref(),
    ))
}

/// After the name and date of birth: sends the first code if one is needed and none was
/// asked for yet (a corrected date of birth sends no second code). Returns the status.
pub async fn after_details(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    attendee: &Attendee,
) -> Result<CodeStatus, Error> {
    let status = status(&state.store, org, attendee).await?;
    if status == CodeStatus::Pending
        && state
            .store
            .identity_code(org, &attendee.id)
            .await?
            .is_none()
    {
        request(state, ctx, org, attendee).await?;
    }
    Ok(status)
}

/// Queues a new code for the attendee (which replaces the old one once sent), audited as
/// `identity_code.requested`. [`Error::TooManyAttempts`] once the limit of sends per hour
/// is reached; [`Error::Refused`] when no code is needed or possible.
pub async fn request(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    attendee: &Attendee,
) -> Result<MessageId, Error> {
    if status(&state.store, org, attendee).await? != CodeStatus::Pending {
        return Err(Error::Refused("no code is needed now".into()));
    }
    let mut tx = state.store.begin().await?;
    let sends = tx
        .code_sends_since(org, &attendee.id, ctx.now - SEND_WINDOW)
        .await?;
    if let Some(wait) = send_wait(&sends, ctx.now) {
        let minutes = (wait.whole_seconds() + 59).div_euclid(60).max(1);
        return Err(Error::TooManyAttempts { minutes });
    }
    let id = new_id(MessageId::from_random);
    let channel = channel(&state.config.invites);
    tx.enqueue_code(org, &id, &attendee.id, channel, ctx.now)
        .await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "identity_code.requested",
        &format!("attendee:{}", attendee.id),
        &format!("message {id} by {channel}"),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Checks what the person typed. A wrong code spends an attempt (the last one locks them
/// out); passing and locking out are audited, as is each wrong code, with the attempts
/// left. A typing mistake (not six digits) is a field error and spends nothing.
pub async fn check(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    attendee: &Attendee,
    typed: &str,
) -> Result<Verdict, Error> {
    let code = OneTimeCode::parse(typed).map_err(|e| {
        let mut errors = FieldErrors::default();
        errors.add("code", crate::error::capitalise(&e.to_string()));
        Error::Invalid(errors)
    })?;
    let mut tx = state.store.begin().await?;
    let Some(record) = tx.identity_code(org, &attendee.id).await? else {
        return Ok(Verdict::NotSent);
    };
    let verdict = record.check(&attendee.id, &code, ctx.now);
    let object = format!("attendee:{}", attendee.id);
    let (action, detail) = match verdict {
        Verdict::Passed => {
            if !tx.pass_identity_code(org, &attendee.id, ctx.now).await? {
                return Err(Error::Refused(RACE.into()));
            }
            ("identity_code.passed", String::new())
        }
        Verdict::Wrong { attempts_left } => {
            let spent = tx
                .spend_code_attempt(org, &attendee.id, record.attempts_left, ctx.now)
                .await?;
            if !spent {
                return Err(Error::Refused(RACE.into()));
            }
            if attempts_left <= 0 {
                ("identity_code.locked", "too many wrong codes".to_owned())
            } else {
                (
                    "identity_code.wrong",
                    format!("attempts_left={attempts_left}"),
                )
            }
        }
        Verdict::Expired | Verdict::NotSent | Verdict::AlreadyPassed | Verdict::LockedOut => {
            return Ok(verdict);
        }
    };
    ctx.audit(&mut tx, Some(org), action, &object, &detail)
        .await?;
    tx.commit().await?;
    if action == "identity_code.locked" {
        tracing::warn!(attendee = %attendee.id, "locked out after too many wrong one-time codes");
    }
    Ok(verdict)
}

/// Two entries of the same code at the same moment: the second is asked to try again.
const RACE: &str = "another code was entered at the same moment; try again";

/// What the clinician reads for a status.
pub fn describe(status: CodeStatus) -> String {
    let at = |t| {
        let t = haven_domain::uk_time::local(t);
        format!("{:02}:{:02}", t.hour(), t.minute())
    };
    match status {
        CodeStatus::NotRequired => "not required".into(),
        CodeStatus::NoMobile => "no code: no mobile number booked".into(),
        CodeStatus::Pending => "not passed".into(),
        CodeStatus::Passed(t) => format!("passed at {}", at(t)),
        CodeStatus::LockedOut(t) => format!(
            "not passed: too many wrong codes at {}; they were asked to call the clinic",
            at(t)
        ),
    }
}
