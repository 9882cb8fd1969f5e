//! Delivering a one-time code: the worker's part for messages whose purpose is a code.
//! As a link is minted per send, a code is drawn per send: the outbox row holds no code,
//! and each code sent replaces the one before (with fresh attempts) in the same short
//! transaction that claims the message.

use haven_domain::OrgId;
use haven_domain::identity_code::{LIFETIME, OneTimeCode};
use haven_domain::time::OffsetDateTime;
use haven_store::consultations::{Attendee, Consultation};
use haven_store::outbox::OutboxMessage;

use super::transport::CodeText;
use super::worker::{LEASE, Outcome, Tried, Worker};
use crate::Error;

/// A uniformly drawn code from the operating system's random source.
pub fn draw() -> OneTimeCode {
    loop {
        // Fails one draw in about 4,300; the loop ends at once in practice.
        if let Some(code) = OneTimeCode::from_random(crate::web::random_bytes()) {
            return code;
        }
    }
}

/// Claims a code message, draws and stores its code, and sends it to the booked mobile.
pub(super) async fn send(
    worker: &Worker,
    m: &OutboxMessage,
    attendee: &Attendee,
    consultation: &Consultation,
    now: OffsetDateTime,
) -> Result<Tried, Error> {
    let org: &OrgId = &m.org_id;
    let Some(mobile) = &attendee.mobile else {
        let reason = "no mobile number is recorded for a text message";
        return worker.give_up(m, reason, now).await.map(Tried::Done);
    };
    if let Err(e) = worker.transport.check_code() {
        return worker.give_up(m, &e.reason, now).await.map(Tried::Done);
    }
    let clinic = worker.store.clinic(org, &consultation.clinic_id).await?;
    let organisation = worker.store.org(org).await?.name;

    let code = draw();
    let mut tx = worker.store.begin().await?;
    if !tx.claim_message(m, now, now + LEASE).await? {
        return Ok(Tried::Done(Outcome::Skipped));
    }
    let hash = code.hash(&attendee.id);
    if !tx
        .replace_identity_code(org, &attendee.id, &hash, now + LIFETIME, now)
        .await?
    {
        drop(tx);
        let reason = "the code is no longer needed (entered already, or too many wrong codes)";
        return worker.give_up(m, reason, now).await.map(Tried::Done);
    }
    tx.commit().await?;

    let text = CodeText {
        code: &code,
        role: attendee.role,
        consultation: &consultation.id,
        clinic: clinic.name.as_str(),
        organisation: organisation.as_str(),
        reference: &m.id,
    };
    Ok(Tried::Sent(worker.transport.send_code(mobile, &text).await))
}
