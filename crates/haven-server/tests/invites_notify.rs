//! Invitations through GOV.UK Notify: each person gets their own working link by the
//! channel they asked for, in requests that keep Notify's published contract (checked by a
//! local stand-in), signed with tokens the official Python client accepts.

mod invites_support;

use std::time::Duration as StdDuration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use haven_domain::consultation::{Contact, Status};
use haven_server::invites::worker::StepReport;
use haven_store::outbox::{Channel, MessageStatus};
use invites_support::notify::{self, StandIn};
use invites_support::{python, *};
use serde_json::{Value, json};

#[tokio::test]
async fn invites_notify_sends_each_person_their_own_link_by_the_published_contract() {
    let notify = StandIn::start().await;
    let h = start(|c| notify::use_notify(c, &notify.base_url, None)).await;
    let b = h.book(Contact::Sms).await;
    let to_patient = h.enqueue(&b.org, &b.patient).await;
    let to_carer = h.enqueue(&b.org, &b.carer).await;
    assert_eq!(
        h.message(&b.org, &to_patient).await.channel,
        Channel::Notify
    );

    let report = h.worker().step(h.now()).await.unwrap();
    assert_eq!(
        report,
        StepReport {
            sent: 2,
            retried: 0,
            failed: 0
        }
    );

    let requests = notify.requests();
    assert_eq!(requests.len(), 2);
    let sms = requests
        .iter()
        .find(|r| r.kind == "sms")
        .expect("a text message");
    let email = requests
        .iter()
        .find(|r| r.kind == "email")
        .expect("an email");
    for r in [sms, email] {
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
    }
    // Exactly the documented fields, the reference our opaque message id.
    assert_eq!(
        keys(&sms.body),
        [
            "personalisation",
            "phone_number",
            "reference",
            "template_id"
        ]
    );
    assert_eq!(sms.body["phone_number"], PATIENT_E164);
    assert_eq!(sms.body["template_id"], notify::SMS_TEMPLATE);
    assert_eq!(sms.body["reference"], to_patient.as_str());
    assert_eq!(
        keys(&email.body),
        [
            "email_address",
            "personalisation",
            "reference",
            "template_id"
        ]
    );
    assert_eq!(email.body["email_address"], CARER_EMAIL);
    assert_eq!(email.body["template_id"], notify::EMAIL_TEMPLATE);
    assert_eq!(email.body["reference"], to_carer.as_str());

    // Each person is greeted by their own first name only, and has their own link.
    let (p, c) = (&sms.body["personalisation"], &email.body["personalisation"]);
    assert_eq!(keys(p), ["clinic", "first_name", "link", "when"]);
    assert_eq!(
        (p["first_name"].as_str(), c["first_name"].as_str()),
        (Some(PATIENT_FIRST), Some("Peregrine"))
    );
    assert_eq!(
        (p["clinic"].as_str(), p["when"].as_str()),
        (Some(CLINIC), Some(WHEN))
    );
    let (patient_link, carer_link) = (p["link"].as_str().unwrap(), c["link"].as_str().unwrap());
    assert!(
        patient_link.starts_with(&format!("{}/join/", h.base)),
        "{patient_link}"
    );
    assert_ne!(patient_link, carer_link);
    assert_eq!(h.opens(patient_link).await, Some(b.patient.clone()));
    assert_eq!(h.opens(carer_link).await, Some(b.carer.clone()));
    for link in [patient_link, carer_link] {
        let token = URL_SAFE_NO_PAD.decode(token_of(link)).unwrap();
        assert_eq!(token.len(), 32, "256 random bits");
        for personal in [PATIENT_FIRST, "Peregrine", "Okonkwo", "900321"] {
            assert!(!link.contains(personal), "{link}");
        }
    }

    // Staff see both as sent, with Notify's ids for the receipts to match.
    let seen = h
        .store
        .messages_for_consultation(&b.org, &b.consultation)
        .await
        .unwrap();
    assert_eq!(seen.len(), 2);
    for m in &seen {
        assert_eq!((m.status, m.attempts), (MessageStatus::Sent, 1));
        let answered = requests
            .iter()
            .find(|r| r.body["reference"] == m.id.as_str())
            .unwrap();
        assert_eq!(m.provider_ref, answered.id);
    }
    let consultation = h.store.consultation(&b.org, &b.consultation).await.unwrap();
    assert_eq!(
        consultation.status,
        Status::Invited,
        "the first invitation sent"
    );
    assert_eq!(h.audit_of("invite.enqueue").await.len(), 2);
    let sent = h.audit_of("invite.sent").await;
    assert_eq!(sent.len(), 2);
    assert!(
        sent[0].detail.contains("booked -> invited"),
        "{}",
        sent[0].detail
    );

    // Nothing more is due: the next step sends nothing.
    assert_eq!(
        h.worker().step(h.now()).await.unwrap(),
        StepReport::default()
    );
    assert_eq!(notify.requests().len(), 2);
}

#[tokio::test]
async fn invites_notify_tokens_pass_the_official_clients_check() {
    let notify = StandIn::start().await;
    let h = start(|c| notify::use_notify(c, &notify.base_url, None)).await;
    let b = h.book(Contact::Email).await;
    h.enqueue(&b.org, &b.patient).await;
    h.enqueue(&b.org, &b.carer).await;
    h.worker().step(h.now()).await.unwrap();

    let tokens: Vec<String> = notify
        .requests()
        .iter()
        .map(|r| {
            let auth = r
                .authorization
                .as_deref()
                .expect("every request is authorised");
            auth.strip_prefix("Bearer ")
                .expect("a bearer token")
                .to_string()
        })
        .collect();
    // One token per request (two made in the same second are alike: the claims are only
    // iss and iat).
    assert_eq!(tokens.len(), 2);

    for (verdict, header, claims) in python::decode_jwt_tokens(&tokens, notify::SECRET) {
        assert_eq!(verdict, "ok", "decode_jwt_token refused Haven's token");
        assert_eq!(header, json!({"typ": "JWT", "alg": "HS256"}));
        assert_eq!(
            keys(&claims),
            ["iat", "iss"],
            "claims are exactly iss and iat"
        );
        assert_eq!(claims["iss"], notify::SERVICE_ID);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let iat = claims["iat"].as_u64().expect("iat is whole seconds");
        assert!(
            now.abs_diff(iat) <= 30,
            "iat is the real time, not the test's clock"
        );
    }
    // The check is real: the same tokens fail under another secret.
    let wrong = "00000000-0000-4000-8000-000000000000";
    for (verdict, _, _) in python::decode_jwt_tokens(&tokens, wrong) {
        assert_eq!(verdict, "TokenDecodeError");
    }
}

#[tokio::test]
async fn invites_serve_runs_the_worker_in_the_background() {
    let notify = StandIn::start().await;
    let h = start(|c| {
        notify::use_notify(c, &notify.base_url, None);
        c.invites.poll_interval = Some(StdDuration::from_millis(20));
    })
    .await;
    let b = h.book(Contact::Sms).await;
    let id = h.enqueue(&b.org, &b.patient).await;
    // Bounded wait for the server's own worker; nothing here drives it.
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(20);
    while h.message(&b.org, &id).await.status != MessageStatus::Sent {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker never sent it"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    assert_eq!(notify.requests().len(), 1);
}

/// The object's keys, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
    keys.sort();
    keys
}
