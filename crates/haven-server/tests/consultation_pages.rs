//! Booking in the staff pages: field-level errors for bad input, a booking that queues the
//! invitation and shows its status, resend, cancel, and who may see what.

mod common;

use common::{Browser, TestApp};
use haven_domain::time::Duration;
use haven_domain::{OrgId, Role};
use reqwest::StatusCode;

async fn admin_with_clinic() -> (TestApp, Browser, String, OrgId) {
    let app = common::spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let clinic = app.create_clinic(&admin.org, "Physiotherapy").await;
    (app, browser, clinic.as_str().to_owned(), admin.org)
}

fn tomorrow(app: &TestApp) -> String {
    let t = haven_domain::uk_time::local(app.now() + Duration::days(1));
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// A valid booking form, with `changes` applied.
fn form<'a>(
    clinic: &'a str,
    date: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("clinic", clinic),
        ("clinician", ""),
        ("date", date),
        ("time", "14:30"),
        ("kind", "one_to_one"),
        ("name", "Sam Patient"),
        ("date_of_birth-day", "27"),
        ("date_of_birth-month", "3"),
        ("date_of_birth-year", "1984"),
        ("nhs_number", "943 476 5919"),
        ("mobile", "07700 900123"),
        ("email", ""),
        ("contact", "sms"),
        ("send", "yes"),
    ];
    for (name, value) in changes {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => fields.push((name, value)),
        }
    }
    fields
}

#[tokio::test]
async fn bad_booking_fields_are_named_next_to_each_field_and_nothing_is_booked() {
    let (app, browser, clinic, _) = admin_with_clinic().await;
    let csrf = browser.get("/consultations/new").await.csrf();
    let date = tomorrow(&app);
    let bad = form(
        &clinic,
        &date,
        &[
            ("date_of_birth-day", "31"),
            ("date_of_birth-month", "2"),
            ("nhs_number", "943 476 5918"),
            ("mobile", "020 7946 0000"),
            ("email", "sam@"),
        ],
    );
    let page = browser
        .post_form_with(&csrf, "/consultations/new", &bad)
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    for (field, message) in [
        ("date_of_birth", "real date"),
        ("nhs_number", "check digit"),
        ("mobile", "landline"),
        ("email", "domain with a dot"),
    ] {
        assert!(
            page.contains(&format!("id=\"{field}-error\"")) && page.contains(message),
            "{field}: {message} not shown: {}",
            page.body
        );
    }
    // What was typed is kept, so only the mistakes need fixing.
    assert!(page.contains("value=\"Sam Patient\""));
    assert!(app.audit_of("consultation.book").await.is_empty());

    let old = form(&clinic, "2020-01-01", &[]);
    let page = browser
        .post_form_with(&csrf, "/consultations/new", &old)
        .await;
    assert!(page.contains("must not be in the past"), "{}", page.body);
    let child = form(&clinic, &date, &[("date_of_birth-year", "2016")]);
    let page = browser
        .post_form_with(&csrf, "/consultations/new", &child)
        .await;
    assert!(
        page.contains("id=\"child_attendance-error\""),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_booking_queues_the_invitation_which_staff_can_resend_and_cancel() {
    let (app, browser, clinic, _) = admin_with_clinic().await;
    let csrf = browser.get("/consultations/new").await.csrf();
    let date = tomorrow(&app);
    let page = browser
        .post_form_with(&csrf, "/consultations/new", &form(&clinic, &date, &[]))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let path = page.location().expect("to the consultation").to_owned();
    let shown = browser.get(&path).await;
    assert!(shown.contains("Sam Patient") && shown.contains("943 476 5919"));
    assert!(shown.contains("at 2:30pm"), "UK time: {}", shown.body);
    assert!(shown.contains("Invitation: Queued"), "{}", shown.body);

    // The day's list shows it.
    let list = browser
        .get(&format!("/consultations?clinic={clinic}&date={date}"))
        .await;
    assert!(
        list.contains("14:30") && list.contains("Sam Patient"),
        "{}",
        list.body
    );

    let resend = shown
        .body
        .split("action=\"")
        .find_map(|s| s.split('"').next().filter(|a| a.ends_with("/resend")))
        .expect("a resend button")
        .to_owned();
    let page = browser.post_form_with(&shown.csrf(), &resend, &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(app.audit_of("invite.resend").await.len(), 1);

    let page = browser
        .post_form_with(&shown.csrf(), &format!("{path}/cancel"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let shown = browser.get(&path).await;
    assert!(shown.contains("Cancelled"), "{}", shown.body);
    assert!(!shown.contains("Send the invitation again"));
    assert!(
        shown.contains("Invitation: Failed: consultation cancelled"),
        "queued invitations are not sent: {}",
        shown.body
    );
    assert_eq!(app.audit_of("consultation.cancel").await.len(), 1);
}

#[tokio::test]
async fn only_booking_staff_of_the_organisation_see_consultations() {
    let (app, browser, clinic, org) = admin_with_clinic().await;
    let csrf = browser.get("/consultations/new").await.csrf();
    let date = tomorrow(&app);
    let page = browser
        .post_form_with(&csrf, "/consultations/new", &form(&clinic, &date, &[]))
        .await;
    let path = page.location().expect("booked").to_owned();

    let auditor = app
        .add_user(
            &org,
            "ig@example.org",
            "Ida Auditor",
            &[Role::IgAuditor],
            "copper lantern orchard wisdom",
        )
        .await;
    let ig = app.browser();
    app.sign_in(&ig, &auditor.email, &auditor.password).await;
    assert_eq!(ig.get(&path).await.status, StatusCode::FORBIDDEN);
    assert_eq!(ig.get("/consultations").await.status, StatusCode::FORBIDDEN);

    let other = app.create_org("Hillside").await;
    let theirs = app
        .add_user(
            &other,
            "bob@example.org",
            "Bob Other",
            &[Role::Clinician],
            "copper lantern orchard wisdom",
        )
        .await;
    let bob = app.browser();
    app.sign_in(&bob, &theirs.email, &theirs.password).await;
    assert_eq!(bob.get(&path).await.status, StatusCode::NOT_FOUND);
    let page = bob
        .post_form_with(&bob.csrf().await, &format!("{path}/cancel"), &[])
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}
