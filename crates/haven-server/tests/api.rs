//! The booking API: every endpoint, its authorisation (another organisation's key gets
//! 404), field-level validation, idempotent cancel, and every response checked against
//! the schemas of the served OpenAPI document.

mod api_support;
mod common;

use api_support::{Api, field_errors};
use haven_domain::ConsultationId;
use haven_domain::consultation::Event;
use haven_domain::time::Duration;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_booking_returns_each_participants_join_link_and_reads_back() {
    let api = Api::start().await;
    let (status, created) = api.create(&api.booking()).await;
    assert_eq!(status, StatusCode::CREATED, "{created:#}");
    api.conforms("Consultation", &created);
    assert_eq!(created["status"], "booked");
    assert_eq!(created["patient"]["nhs_number"], "9434765919");
    let patient = &created["participants"][0];
    assert_eq!(patient["role"], "patient");
    assert_eq!(patient["mobile"], "+447700900123");
    let link = patient["join_link"].as_str().expect("a join link");
    let token = link
        .strip_prefix(&format!("{}/join/", api.app.base))
        .expect("the link is on Haven's public URL");
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    let invite = api
        .app
        .store
        .invite(&haven_server::invites::token_hash(token), api.app.now())
        .await
        .unwrap()
        .expect("the link opens the consultation");
    assert_eq!(invite.consultation.id.as_str(), created["id"]);

    // Haven queued the invitation by the preferred contact.
    let id = ConsultationId::parse(created["id"].as_str().unwrap()).unwrap();
    let queued = api
        .app
        .store
        .messages_for_consultation(&api.org, &id)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);

    let (status, read) = api
        .call(
            "GET",
            &format!("/api/v1/consultations/{id}"),
            Some(&api.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    api.conforms("Consultation", &read);
    assert!(
        read["participants"][0].get("join_link").is_none(),
        "links are shown once"
    );
    assert_eq!(read["starts_at"], created["starts_at"]);
    assert_eq!(api.app.audit_of("consultation.book").await.len(), 1);
}

#[tokio::test]
async fn a_caller_may_deliver_the_links_itself() {
    let api = Api::start().await;
    let mut body = api.booking();
    body["send_invitations"] = json!(false);
    let (status, created) = api.create(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{created:#}");
    let id = ConsultationId::parse(created["id"].as_str().unwrap()).unwrap();
    assert!(
        api.app
            .store
            .messages_for_consultation(&api.org, &id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn without_a_live_key_nothing_is_answered_and_another_organisation_finds_nothing() {
    let api = Api::start().await;
    let (_, created) = api.create(&api.booking()).await;
    let path = format!("/api/v1/consultations/{}", created["id"].as_str().unwrap());
    for key in [None, Some("haven_not-a-real-key"), Some("Basic abc")] {
        let (status, body) = api.call("GET", &path, key, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}");
        api.conforms("Error", &body);
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    let (status, body) = api.call("GET", &path, Some(&api.other_key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    api.conforms("Error", &body);
    let (status, _) = api
        .call(
            "POST",
            &format!("{path}/cancel"),
            Some(&api.other_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api
        .call(
            "GET",
            "/api/v1/consultations/nonsense",
            Some(&api.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Still booked: the other organisation's cancel did nothing.
    let (_, read) = api.call("GET", &path, Some(&api.key), None).await;
    assert_eq!(read["status"], "booked");
}

#[tokio::test]
async fn bad_fields_are_each_named_with_the_reason() {
    let api = Api::start().await;
    let mut body = api.booking();
    body["starts_at"] = json!(api.at(-Duration::days(1)));
    body["patient"]["nhs_number"] = json!("943 476 5918");
    body["patient"]["mobile"] = json!("+33 6 12 34 56 78");
    body["patient"]["email"] = json!("not-an-address");
    body["patient"]["date_of_birth"] = json!("1984-02-30");
    let (status, answer) = api.create(&body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer:#}");
    api.conforms("Error", &answer);
    assert_eq!(
        field_errors(&answer),
        [
            "starts_at",
            "patient.date_of_birth",
            "patient.nhs_number",
            "patient.mobile",
            "patient.email"
        ]
    );
    let messages = answer["error"]["fields"].to_string();
    assert!(
        messages.contains("check digit")
            && messages.contains("abroad")
            && messages.contains("past"),
        "{messages}"
    );

    // A child needs to know who attends with them; a colleague meeting has no patient.
    let mut child = api.booking();
    child["patient"]["date_of_birth"] = json!("2015-06-01");
    let (status, answer) = api.create(&child).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&answer), ["patient.child_attendance"]);
    child["patient"]["child_attendance"] = json!("alone_competent");
    assert_eq!(api.create(&child).await.0, StatusCode::CREATED);
    let mut meeting = api.booking();
    meeting["kind"] = json!("colleague_meeting");
    let (status, answer) = api.create(&meeting).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&answer), ["patient"]);
    meeting.as_object_mut().unwrap().remove("patient");
    let (status, created) = api.create(&meeting).await;
    assert_eq!(status, StatusCode::CREATED, "{created:#}");
    api.conforms("Consultation", &created);
    assert!(created["patient"].is_null() && created["participants"].as_array().unwrap().is_empty());

    // Not JSON, or JSON of the wrong shape: 400 naming the problem.
    let url = format!("{}/api/v1/consultations", api.app.base);
    let res = api
        .http
        .post(&url)
        .bearer_auth(&api.key)
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let mut extra = api.booking();
    extra["colour"] = json!("blue");
    let (status, answer) = api.create(&extra).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{answer}"
    );
    // Nothing was stored by the refusals.
    assert_eq!(api.app.audit_of("consultation.book").await.len(), 2);
}

#[tokio::test]
async fn cancelling_kills_the_links_and_is_idempotent_but_a_started_call_cannot_be_cancelled() {
    let api = Api::start().await;
    let (_, created) = api.create(&api.booking()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let link = created["participants"][0]["join_link"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = link.rsplit('/').next().unwrap();
    let cancel = format!("/api/v1/consultations/{id}/cancel");
    for _ in 0..2 {
        let (status, body) = api.call("POST", &cancel, Some(&api.key), None).await;
        assert_eq!(status, StatusCode::OK, "{body:#}");
        api.conforms("Consultation", &body);
        assert_eq!(body["status"], "cancelled");
    }
    assert_eq!(api.app.audit_of("consultation.cancel").await.len(), 1);
    let hash = haven_server::invites::token_hash(token);
    assert!(
        api.app
            .store
            .invite(&hash, api.app.now())
            .await
            .unwrap()
            .is_none()
    );

    // A consultation in progress is not cancelled.
    let (_, started) = api.create(&api.booking()).await;
    let started_id = ConsultationId::parse(started["id"].as_str().unwrap()).unwrap();
    let mut tx = api.app.store.begin().await.unwrap();
    for event in [Event::Arrive, Event::Admit] {
        tx.transition(&api.org, &started_id, event, api.app.now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let (status, body) = api
        .call(
            "POST",
            &format!("/api/v1/consultations/{started_id}/cancel"),
            Some(&api.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body:#}");
    api.conforms("Error", &body);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("in_progress")
    );
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes_served() {
    let api = Api::start().await;
    let paths: Vec<&String> = api.document["paths"].as_object().unwrap().keys().collect();
    assert_eq!(
        paths,
        [
            "/api/v1/consultations",
            "/api/v1/consultations/{id}",
            "/api/v1/consultations/{id}/cancel"
        ]
    );
    assert_eq!(api.document["openapi"], "3.1.0");
    // Every documented schema compiles.
    for name in api.document["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
    {
        let mut schema = api.document.clone();
        schema["$ref"] = json!(format!("#/components/schemas/{name}"));
        assert!(jsonschema::validator_for(&schema).is_ok(), "{name}");
    }
}

/// A booking system generating requests from the document gets bookings through: what
/// the document allows of these rules, Haven books, and what Haven refuses, the document
/// already rules out.
#[tokio::test]
async fn the_booking_schema_states_the_rules_haven_enforces() {
    let api = Api::start().await;
    let mut refused = Vec::new();
    let mut change = |what: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut body = api.booking();
        edit(&mut body);
        refused.push((what.to_owned(), body));
    };
    change("no patient for one to one", &|b| {
        b.as_object_mut().unwrap().remove("patient");
    });
    change("a patient for a group", &|b| b["kind"] = json!("group"));
    change("a group without attendees or host", &|b| {
        b["kind"] = json!("group");
        b["patient"] = json!(null);
    });
    change("attendees for one to one", &|b| {
        b["attendees"] = json!([b["patient"].clone()]);
    });
    change("a blank name", &|b| b["patient"]["name"] = json!("   "));
    change("a control character in the name", &|b| {
        b["patient"]["name"] = json!("Sam\u{0}Patient")
    });
    change("a landline", &|b| {
        b["patient"]["mobile"] = json!("0113 496 0000")
    });
    change("text message without a mobile", &|b| {
        b["patient"]["mobile"] = json!("");
    });
    change("email without an address", &|b| {
        b["patient"]["preferred_contact"] = json!("email");
    });
    change("a short NHS number", &|b| {
        b["patient"]["nhs_number"] = json!("943 476")
    });
    for (what, body) in &refused {
        assert!(
            !api.valid("NewConsultation", body),
            "the document allows {what}"
        );
        let (status, answer) = api.create(body).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {answer:#}"
        );
    }
    let mut meeting = api.booking();
    meeting["kind"] = json!("colleague_meeting");
    meeting["patient"] = json!(null);
    let mut by_email = api.booking();
    by_email["patient"]["preferred_contact"] = json!("email");
    by_email["patient"]["email"] = json!("sam@example.org");
    by_email["patient"]["mobile"] = json!(null);
    for body in [api.booking(), meeting, by_email] {
        assert!(api.valid("NewConsultation", &body), "{body:#}");
        let (status, answer) = api.create(&body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer:#}");
    }
}
