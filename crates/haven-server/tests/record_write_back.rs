//! Notes and the write-back to the record: a draft until the clinician finishes it, then
//! read-only; each patient's bundle posted to the record system (retried when it is busy,
//! failed with its reason when it refuses), shown on the consultation page, downloadable
//! by the clinic's staff only, and every step audited without the notes' text.

mod common;
mod record_support;

use haven_domain::Role;
use haven_domain::time::Duration;
use haven_store::deliveries::DeliveryStatus;
use record_support::{PASSWORD, TOKEN, consultation};
use reqwest::StatusCode;

const NOTES: &str = "Knee pain much better; continue the exercises.";

#[tokio::test]
async fn notes_are_a_draft_until_finished_then_read_only_and_the_bundle_is_delivered() {
    let c = consultation(false).await;
    let notes = format!("/consultations/{}/notes", c.id);
    // During the call: a draft can be saved, but not finished.
    let saved = c
        .clinician
        .post_form(&notes, &[("outcome", ""), ("notes", "Draft: knee")])
        .await;
    saved.assert_redirect(&notes);
    let page = c.clinician.get(&notes).await;
    assert!(
        page.contains("Draft: knee") && page.contains("Draft saved"),
        "{}",
        page.body
    );
    let early = c.finish(NOTES).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(
        early.contains("End the consultation before sending the notes"),
        "{}",
        early.body
    );
    assert!(c.receiver.arrived().is_empty());

    let mut tx = c.app.store.begin().await.unwrap();
    tx.transition(
        &c.org,
        &c.id,
        haven_domain::consultation::Event::End,
        c.app.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    c.finish(NOTES).await.assert_redirect(&notes);
    let page = c.clinician.get(&notes).await;
    assert!(page.contains("Finished and sent to the record") && page.contains(NOTES));
    assert!(!page.contains("<textarea"), "finished notes are read-only");
    // Nothing changes them afterwards: not the form, not the outcome form.
    let again = c
        .clinician
        .post_form(&notes, &[("outcome", "completed"), ("notes", "changed")])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let outcome = format!("/consultations/{}/outcome", c.id);
    let again = c
        .clinician
        .post_form(&outcome, &[("outcome", "did_not_attend"), ("note", "")])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let stored = c.app.store.notes(&c.org, &c.id).await.unwrap().unwrap();
    assert_eq!(stored.body, NOTES);

    let shown = c.clinician.get(&format!("/consultations/{}", c.id)).await;
    assert!(shown.contains("Record system: queued"), "{}", shown.body);
    let report = c.deliver().await;
    assert_eq!((report.delivered, report.retried, report.failed), (1, 0, 0));
    let arrived = c.receiver.arrived();
    assert_eq!(arrived.len(), 1);
    assert_eq!(
        arrived[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        arrived[0].content_type.as_deref(),
        Some("application/fhir+json")
    );
    let bundle = &arrived[0].bundle;
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "transaction");
    let text = bundle.to_string();
    for expected in [
        "\"Encounter\"",
        "\"VR\"",
        "719410009",
        "Sam Patient",
        "Knee pain much better",
        "Dana Doctor",
    ] {
        assert!(text.contains(expected), "{expected} is not in {text}");
    }
    let shown = c.clinician.get(&format!("/consultations/{}", c.id)).await;
    assert!(
        shown.contains("Record system: delivered") && shown.contains("as Bundle/1"),
        "{}",
        shown.body
    );
    // Nothing more to send.
    assert_eq!(c.deliver().await.delivered, 0);

    let audit = c.app.audit().await;
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    for action in [
        "consultation.notes",
        "consultation.notes_finished",
        "record.queued",
        "record.delivered",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    for entry in &audit {
        assert!(
            !entry.detail.contains("Knee") && !entry.detail.contains("Draft"),
            "{}",
            entry.detail
        );
    }
}

#[tokio::test]
async fn a_busy_record_system_is_tried_again_and_a_refusal_fails_with_its_reason() {
    let c = consultation(true).await;
    c.receiver.answer(&[503, 201]);
    c.finish(NOTES).await;
    let report = c.deliver().await;
    assert_eq!((report.delivered, report.retried), (0, 1));
    let d = &c.app.store.deliveries(&c.org, &c.id).await.unwrap()[0];
    assert_eq!(d.status, DeliveryStatus::Queued);
    assert!(
        d.reason.as_deref().unwrap().contains("503"),
        "{:?}",
        d.reason
    );
    let shown = c.clinician.get(&format!("/consultations/{}", c.id)).await;
    assert!(shown.contains("to be tried again"), "{}", shown.body);
    // Not before its time.
    assert_eq!(c.deliver().await.retried + c.deliver().await.delivered, 0);
    c.app.advance(Duration::minutes(1));
    assert_eq!(c.deliver().await.delivered, 1);
    assert_eq!(c.receiver.arrived().len(), 2);
    let posts = c.receiver.arrived();
    assert_eq!(
        posts[0].bundle["entry"], posts[1].bundle["entry"],
        "the same bundle, same ids"
    );

    // A refusal is final at once, with the record system's reason.
    let second = record_support::book(&c.app, &c.org, &c.clinic, true).await;
    c.receiver.answer(&[400]);
    let path = format!("/consultations/{second}/notes/finish");
    c.clinician
        .post_form(&path, &[("outcome", "completed"), ("notes", NOTES)])
        .await;
    let report = c.deliver().await;
    assert_eq!(report.failed, 1);
    let d = &c.app.store.deliveries(&c.org, &second).await.unwrap()[0];
    assert_eq!(d.status, DeliveryStatus::Failed);
    let shown = c.clinician.get(&format!("/consultations/{second}")).await;
    assert!(
        shown.contains(
            "failed: the record system refused it (400): Encounter.class is not allowed here"
        ),
        "{}",
        shown.body
    );
    let failed = c.app.audit_of("record.failed").await;
    assert_eq!(failed.len(), 1);
    assert!(failed[0].detail.contains("(400)"));
    c.app.advance(Duration::hours(10));
    assert_eq!(
        c.deliver().await,
        Default::default(),
        "a failed bundle is not tried again"
    );
}

#[tokio::test]
async fn only_staff_of_the_clinic_download_the_record_and_only_once_finished() {
    let c = consultation(true).await;
    let patient = c.app.store.attendees(&c.org, &c.id).await.unwrap()[0]
        .id
        .clone();
    let path = format!("/consultations/{}/record/{patient}", c.id);
    let early = c.clinician.get(&path).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(early.contains("Finish the notes first"));
    c.finish(NOTES).await;

    let file = c.clinician.get(&path).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.header("content-type"), Some("application/fhir+json"));
    let disposition = file.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment;") && !disposition.contains("Sam"),
        "{disposition}"
    );
    let bundle: serde_json::Value = serde_json::from_str(&file.body).unwrap();
    assert_eq!(bundle["type"], "transaction");
    assert_eq!(c.app.audit_of("record.downloaded").await.len(), 1);
    let page = c.clinician.get(&format!("/consultations/{}", c.id)).await;
    assert!(page.contains(&path), "the page links the download");

    // A clinician and a receptionist of another clinic, and an unknown patient: not found.
    let other = c.app.create_clinic(&c.org, "Podiatry").await;
    for (email, role) in [
        ("elsewhere@example.org", Role::Clinician),
        ("desk@example.org", Role::Receptionist),
    ] {
        let who = c
            .app
            .add_user(&c.org, email, "Elsa Where", &[role], PASSWORD)
            .await;
        haven_server::ops::orgs::set_membership(
            &c.app.state,
            &c.app.system(),
            &c.org,
            &other,
            &who.id,
            true,
        )
        .await
        .unwrap();
        let browser = c.app.browser();
        c.app.sign_in(&browser, email, PASSWORD).await.assert_home();
        assert_eq!(
            browser.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{email}"
        );
        let notes = format!("/consultations/{}/notes", c.id);
        assert_eq!(
            browser.get(&notes).await.status,
            StatusCode::NOT_FOUND,
            "{email}"
        );
    }
    let carer_path = format!("/consultations/{}/record/{}", c.id, "0".repeat(32));
    assert_eq!(
        c.clinician.get(&carer_path).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(c.app.audit_of("record.downloaded").await.len(), 1);
}

#[tokio::test]
async fn notes_that_are_too_long_or_an_unknown_outcome_are_refused_on_their_fields() {
    let c = consultation(true).await;
    let notes = format!("/consultations/{}/notes", c.id);
    let long = "a".repeat(20_001);
    let page = c
        .clinician
        .post_form(&notes, &[("outcome", "went well"), ("notes", &long)])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.assert_field_error("notes", "Keep the notes to 20,000 characters");
    page.assert_field_error("outcome", "Choose how the consultation went");
    assert!(c.app.store.notes(&c.org, &c.id).await.unwrap().is_none());
    // Finishing without an outcome is refused on the outcome.
    let path = format!("/consultations/{}/notes/finish", c.id);
    let page = c
        .clinician
        .post_form(&path, &[("outcome", ""), ("notes", NOTES)])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.assert_field_error(
        "outcome",
        "Choose how the consultation went before finishing",
    );
    let stored = c.app.store.notes(&c.org, &c.id).await.unwrap().unwrap();
    assert!(stored.finished.is_none(), "saved as a draft, not finished");
}
