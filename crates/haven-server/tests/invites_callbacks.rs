//! GOV.UK Notify's delivery receipts at `POST /callbacks/notify`: they need the bearer
//! token (and no CSRF cookie), update what staff see, answer an unknown id as any other,
//! and never put the recipient's details in the log.

mod invites_support;

use haven_domain::consultation::Contact;
use haven_domain::time::Duration;
use haven_store::outbox::MessageStatus;
use invites_support::logs::Capture;
use invites_support::notify::{self, StandIn};
use invites_support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CALLBACK_TOKEN: &str = "notify-receipts-7d1c2b9e4f";

/// A receipt as Notify posts it.
fn receipt(id: &str, reference: &str, to: &str, status: &str) -> Value {
    json!({
        "id": id,
        "reference": reference,
        "to": to,
        "status": status,
        "created_at": "2026-11-24T09:00:00.000000Z",
        "completed_at": "2026-11-24T09:00:05.000000Z",
        "sent_at": "2026-11-24T09:00:01.000000Z",
        "notification_type": "sms",
        "template_id": notify::SMS_TEMPLATE,
        "template_version": 1,
    })
}

async fn post(h: &Harness, bearer: Option<&str>, body: &str) -> StatusCode {
    let mut req = reqwest::Client::new()
        .post(format!("{}/callbacks/notify", h.base))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = bearer {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    req.send().await.unwrap().status()
}

/// A consultation whose patient (text) and carer (email) were both sent invitations.
async fn sent(h: &Harness) -> Booking {
    let b = h.book(Contact::Sms).await;
    h.enqueue(&b.org, &b.patient).await;
    h.enqueue(&b.org, &b.carer).await;
    h.worker().step(h.now()).await.unwrap();
    b
}

// Current-thread runtime: the server's handlers log to this thread's capture.
#[tokio::test(flavor = "current_thread")]
async fn invites_callbacks_receipts_update_what_staff_see() {
    let (capture, _guard) = Capture::start();
    let notify = StandIn::start().await;
    let h = start(|c| notify::use_notify(c, &notify.base_url, Some(CALLBACK_TOKEN))).await;
    let b = sent(&h).await;
    let requests = notify.requests();
    let sms = requests.iter().find(|r| r.kind == "sms").unwrap();
    let email = requests.iter().find(|r| r.kind == "email").unwrap();
    let (sms_id, email_id) = (sms.id.clone().unwrap(), email.id.clone().unwrap());
    let sms_ref = sms.body["reference"].as_str().unwrap().to_string();
    let email_ref = email.body["reference"].as_str().unwrap().to_string();
    h.advance(Duration::minutes(1));

    // Not final yet: nothing changes.
    let sending = receipt(&sms_id, &sms_ref, PATIENT_E164, "sending").to_string();
    assert_eq!(
        post(&h, Some(CALLBACK_TOKEN), &sending).await,
        StatusCode::OK
    );
    let delivered = receipt(&sms_id, &sms_ref, PATIENT_E164, "delivered").to_string();
    assert_eq!(
        post(&h, Some(CALLBACK_TOKEN), &delivered).await,
        StatusCode::OK
    );
    let bounced = receipt(&email_id, &email_ref, CARER_EMAIL, "permanent-failure").to_string();
    assert_eq!(
        post(&h, Some(CALLBACK_TOKEN), &bounced).await,
        StatusCode::OK
    );

    let seen = h
        .store
        .messages_for_consultation(&b.org, &b.consultation)
        .await
        .unwrap();
    let patient = seen.iter().find(|m| m.attendee_id == b.patient).unwrap();
    let carer = seen.iter().find(|m| m.attendee_id == b.carer).unwrap();
    assert_eq!(
        (patient.status, patient.updated_at),
        (MessageStatus::Delivered, h.now())
    );
    assert_eq!(
        haven_server::invites::ops::status_text(patient),
        "Delivered"
    );
    assert_eq!(carer.status, MessageStatus::Failed);
    assert_eq!(
        haven_server::invites::ops::status_text(carer),
        "Failed: Notify could not deliver it: the number or address does not exist \
         (permanent-failure)"
    );
    let failed = h.audit_of("invite.failed").await;
    assert_eq!(failed.len(), 1);
    assert!(failed[0].detail.contains("permanent-failure"));

    // The recipients' details in the receipts never reach the log.
    capture.assert_free_of(&[
        PATIENT_E164.to_string(),
        "7700900321".to_string(),
        CARER_EMAIL.to_string(),
        "peregrine".to_string(),
        "Peregrine".to_string(),
    ]);
    assert!(
        capture.text().contains("/callbacks/notify"),
        "the request itself is logged"
    );
}

#[tokio::test]
async fn invites_callbacks_need_the_bearer_token() {
    let notify = StandIn::start().await;
    let h = start(|c| notify::use_notify(c, &notify.base_url, Some(CALLBACK_TOKEN))).await;
    let b = sent(&h).await;
    let sms = notify
        .requests()
        .into_iter()
        .find(|r| r.kind == "sms")
        .unwrap();
    let id = sms.id.unwrap();
    let body = receipt(&id, "x", PATIENT_E164, "delivered").to_string();

    assert_eq!(post(&h, None, &body).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        post(&h, Some("notify-receipts-7d1c2b9e4F"), &body).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(post(&h, Some(""), &body).await, StatusCode::UNAUTHORIZED);
    let seen = h
        .store
        .messages_for_consultation(&b.org, &b.consultation)
        .await
        .unwrap();
    assert!(
        seen.iter().all(|m| m.status == MessageStatus::Sent),
        "nothing changed"
    );

    // An id Haven never sent is answered like any other; a body that is no receipt is not.
    let unknown = receipt(
        "6ee4a2f1-0000-4000-8000-000000000000",
        "x",
        "+447700900999",
        "delivered",
    );
    assert_eq!(
        post(&h, Some(CALLBACK_TOKEN), &unknown.to_string()).await,
        StatusCode::OK
    );
    assert_eq!(
        post(&h, Some(CALLBACK_TOKEN), "{\"to\": \"+447700900321\"}").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(post(&h, Some(CALLBACK_TOKEN), &body).await, StatusCode::OK);
    let seen = h
        .store
        .messages_for_consultation(&b.org, &b.consultation)
        .await
        .unwrap();
    let patient = seen.iter().find(|m| m.attendee_id == b.patient).unwrap();
    assert_eq!(patient.status, MessageStatus::Delivered);
}

#[tokio::test]
async fn invites_callbacks_are_not_there_without_notify() {
    let h = start(|_| {}).await;
    let body = receipt(
        "6ee4a2f1-0000-4000-8000-000000000000",
        "x",
        "+447700900999",
        "delivered",
    );
    assert_eq!(
        post(&h, Some(CALLBACK_TOKEN), &body.to_string()).await,
        StatusCode::NOT_FOUND
    );
}
