//! The organisation's time limit on a consultation, in simulated time: the admin sets it on
//! the policy page (bad values are named on the field), everyone in the call is warned five
//! minutes before, anyone joining later is warned too, and at the limit the consultation
//! ends exactly as "End consultation for everyone" ends it: connections closed, the link
//! dead, the status ended, audited as ended by the time limit.

mod common;
mod signal_support;

use std::time::Duration;

use common::TestApp;
use common::booking::Appointment;
use haven_domain::audit::Actor;
use haven_domain::consultation::Status;
use haven_domain::time::Duration as Span;
use haven_domain::{ConsultationId, OrgId, Role};
use haven_server::ops::admission::{Checklist, admit};
use reqwest::StatusCode;
use serde_json::{Value, json};
use signal_support::{Client, Incoming};

const PASSWORD: &str = "copper lantern orchard wisdom";

/// The policy form as saved, with this time limit.
fn policy_fields(limit: &str) -> Vec<(&str, &str)> {
    vec![
        ("mfa_required", "on"),
        ("invite_lifetime", "appointment_day"),
        ("identity_check", "name_dob"),
        ("consultation_limit", limit),
    ]
}

/// The limit's box on the policy page, showing `value`.
fn limit_box(value: &str) -> String {
    format!("name=\"consultation_limit\" type=\"number\" value=\"{value}\"")
}

/// Books a one-to-one consultation in `org` for tonight; returns it and the patient's link
/// token.
async fn book_one(app: &TestApp, org: &OrgId) -> (ConsultationId, String) {
    let clinic = app.create_clinic(org, "Physiotherapy").await;
    let day = (app.now() + Span::hours(1)).date();
    let done = app
        .book(org, &Appointment::new(&clinic, day, "23:59"))
        .await;
    let token = done.links[0].1.token().to_owned();
    (done.id, token)
}

/// Reads until a message of type `ty`, skipping updates of the participant list, the
/// client's stage and others' microphones.
async fn next_of(client: &mut Client, ty: &str) -> Value {
    loop {
        match client.recv().await {
            Incoming::Msg(m) if m["type"] == ty => return m,
            Incoming::Msg(m)
                if ["participants", "stage", "mute"]
                    .contains(&m["type"].as_str().unwrap_or("")) => {}
            other => panic!("expected {ty:?}, got {other:?}"),
        }
    }
}

/// A round trip through the room: the clinician mutes, and the patient hears of it. The
/// room has then looked at the clock as it stands.
async fn round_trip(clinician: &mut Client, patient: &mut Client, muted: bool) {
    clinician
        .send(json!({"type": "mute", "kind": "audio", "muted": muted}))
        .await;
    assert_eq!(next_of(patient, "mute").await["muted"], muted);
}

#[tokio::test]
async fn the_limit_is_a_policy_setting_of_15_to_240_minutes() {
    let app = common::spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let page = browser.get("/admin/policy").await;
    assert!(page.contains(&limit_box("90")), "{}", page.body);
    for bad in ["14", "241", "0", "-30", "ninety", "", "1.5"] {
        let refused = browser
            .post_form_with(&page.csrf(), "/admin/policy", &policy_fields(bad))
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad:?}");
        refused.assert_field_error(
            "consultation_limit",
            "Enter a whole number of minutes from 15 to 240",
        );
        assert!(
            refused.contains(&limit_box(bad)),
            "what was typed is shown again: {}",
            refused.body
        );
    }
    assert!(app.audit_of("org.policy_change").await.is_empty());
    let saved = browser
        .post_form_with(&page.csrf(), "/admin/policy", &policy_fields("45"))
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    let policy = app.store.org(&admin.org).await.unwrap().policy;
    assert_eq!(policy.consultation_limit.get(), 45);
    let changes = app.audit_of("org.policy_change").await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].detail, "consultation_limit_minutes: 90 -> 45");
}

#[tokio::test]
async fn a_consultation_past_its_limit_is_warned_then_ended_for_everyone() {
    let app = common::spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let page = browser.get("/admin/policy").await;
    browser
        .post_form_with(&page.csrf(), "/admin/policy", &policy_fields("30"))
        .await;
    let org = admin.org.clone();
    let (id, token) = book_one(&app, &org).await;
    let doctor = app.add_doctor(&org).await;
    let doctor_browser = app.browser();
    app.sign_in(&doctor_browser, &doctor.email, &doctor.password)
        .await
        .assert_home();

    let mut patient = Client::open(&app.base, None).await;
    patient.join_with(&json!({"invite": token})).await;
    assert_eq!(next_of(&mut patient, "stage").await["stage"], "waiting");
    let mut clinician = Client::open(&app.base, Some(&doctor_browser.session_cookie())).await;
    clinician
        .join_with(&json!({"consultation": id.as_str()}))
        .await;
    // Waiting does not count: the clock starts at admission.
    app.advance(Span::minutes(40));
    let attendee = app.store.attendees(&org, &id).await.unwrap()[0].id.clone();
    let ctx = haven_server::ops::Context {
        actor: Actor::Staff(doctor.id.clone()),
        client_addr: None,
        now: app.now(),
    };
    let checklist = Checklist {
        identity_confirmed: true,
        record_open: true,
        private_space: true,
        location: "Home",
    };
    admit(&app.state, &ctx, &org, &id, &attendee, &checklist)
        .await
        .expect("admitted");
    assert_eq!(next_of(&mut patient, "stage").await["stage"], "admitted");

    // Nothing a minute before the warning is due; then the warning, to everyone.
    app.advance(Span::minutes(24));
    round_trip(&mut clinician, &mut patient, true).await;
    app.advance(Span::minutes(1));
    for client in [&mut patient, &mut clinician] {
        let warning = next_of(client, "ending_soon").await;
        assert_eq!(warning["minutes"], 5);
        assert_eq!(warning["text"], "This consultation will end in 5 minutes");
    }

    // Someone joining after the warning is told on joining, with the time then left.
    app.advance(Span::minutes(2) + Span::seconds(30));
    let colleague = app
        .add_user(
            &org,
            "doc2@example.org",
            "Dev Doctor",
            &[Role::Clinician],
            PASSWORD,
        )
        .await;
    let second = app.browser();
    app.sign_in(&second, &colleague.email, &colleague.password)
        .await
        .assert_home();
    let mut late = Client::open(&app.base, Some(&second.session_cookie())).await;
    late.join_with(&json!({"consultation": id.as_str()})).await;
    let warning = next_of(&mut late, "ending_soon").await;
    assert_eq!(warning["minutes"], 3);
    assert_eq!(warning["text"], "This consultation will end in 3 minutes");

    // Not a second early; then the end, exactly as a clinician's.
    app.advance(Span::minutes(2) + Span::seconds(29));
    round_trip(&mut clinician, &mut patient, false).await;
    assert_eq!(
        app.store.consultation(&org, &id).await.unwrap().status,
        Status::InProgress
    );
    app.advance(Span::seconds(1));
    for client in [&mut patient, &mut clinician, &mut late] {
        let ended = next_of(client, "ended").await;
        assert_eq!(
            ended["reason"],
            "this consultation reached its time limit of 30 minutes"
        );
        let closed = client.expect_closed(Duration::from_secs(1)).await;
        assert_eq!(closed, Some((1000, "ended".to_owned())));
    }
    let c = app.store.consultation(&org, &id).await.unwrap();
    assert_eq!(c.status, Status::Ended);
    let hash = haven_server::invites::token_hash(&token);
    assert!(app.store.invite(&hash, app.now()).await.unwrap().is_none());
    assert_eq!(
        app.browser().get(&format!("/join/{token}")).await.status,
        404
    );
    let end = app.audit_of("consultation.end").await;
    assert_eq!(end.len(), 1);
    assert_eq!(end[0].actor, Actor::System);
    assert_eq!(end[0].object, id.as_str());
    assert_eq!(
        end[0].detail,
        "from=in_progress by=time_limit limit_minutes=30"
    );
    assert!(app.verify_chain().await > 0);
}
