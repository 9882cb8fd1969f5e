//! The patient's link: what the page says, confirming name and date of birth, and the
//! helpful (and rate-limited) answer to links that do not work.

mod common;

use common::TestApp;
use common::booking::Appointment;
use haven_domain::time::Duration;
use haven_domain::{ConsultationId, OrgId};
use haven_server::ops::booking::cancel;
use reqwest::StatusCode;

/// Books a consultation for tomorrow at 14:30 UTC; returns its id and the patient's link
/// path (`/join/TOKEN`).
async fn booked(app: &TestApp, org: &OrgId, dob: &str, child: &str) -> (ConsultationId, String) {
    let clinic = app.create_clinic(org, "Physiotherapy").await;
    let day = (app.now() + Duration::days(1)).date();
    let mut appointment = Appointment::new(&clinic, day, "14:30");
    appointment.birth = dob;
    appointment.child_attendance = child;
    let done = app.book(org, &appointment).await;
    let path = app.link_path(&done);
    (done.id, path)
}

#[tokio::test]
async fn the_link_explains_the_appointment_and_the_patient_confirms_who_they_are() {
    let app = common::spawn_app().await;
    let org = app.create_org("Riverside Health").await;
    let (id, path) = booked(&app, &org, "1984-03-27", "").await;
    let browser = app.browser();
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for text in [
        "Hello Sam.",
        "Physiotherapy, Riverside Health",
        "at 2:30pm",
        "private, quiet place",
        "you agree to be seen and heard",
        "href=\"/privacy\"",
        "autocomplete=\"bday-day\"",
    ] {
        assert!(page.contains(text), "{text:?} missing: {}", page.body);
    }
    assert!(
        !page.contains("Patient"),
        "only the first name is shown before confirming"
    );
    assert_eq!(browser.get("/privacy").await.status, StatusCode::OK);

    let csrf = page.csrf();
    let bad = browser
        .post_form_with(
            &csrf,
            &path,
            &[
                ("name", ""),
                ("date_of_birth-day", "30"),
                ("date_of_birth-month", "2"),
                ("date_of_birth-year", "1984"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.contains("id=\"name-error\"") && bad.contains("id=\"date_of_birth-error\""),
        "{}",
        bad.body
    );

    // A different date from the booking is accepted: the clinician sees the mismatch.
    let ok = browser
        .post_form_with(
            &csrf,
            &path,
            &[
                ("name", "Sam Patient"),
                ("date_of_birth-day", "28"),
                ("date_of_birth-month", "3"),
                ("date_of_birth-year", "1984"),
            ],
        )
        .await;
    ok.assert_redirect(&format!("{path}/check"));
    let people = app.store.attendees(&org, &id).await.unwrap();
    let confirmed = people[0].confirmed.as_ref().expect("confirmed");
    assert_eq!(
        confirmed.dob.map(|d| d.iso()).as_deref(),
        Some("1984-03-28")
    );
    assert_eq!(confirmed.name.as_str(), "Sam Patient");
}

#[tokio::test]
async fn a_young_persons_page_says_who_attends_with_them() {
    let app = common::spawn_app().await;
    let org = app.create_org("Riverside Health").await;
    let (_, path) = booked(&app, &org, "2015-06-01", "with_parent_or_guardian").await;
    let page = app.browser().get(&path).await;
    assert!(
        page.contains("a parent or guardian should be with them"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_dead_link_says_what_to_do_and_many_bad_links_are_slowed_down() {
    let app = common::spawn_app().await;
    let org = app.create_org("Riverside Health").await;
    let (id, path) = booked(&app, &org, "1984-03-27", "").await;
    let browser = app.browser();
    assert_eq!(browser.get(&path).await.status, StatusCode::OK);
    cancel(&app.store, &app.system(), &org, &id).await.unwrap();
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.contains("This link does not work") && page.contains("contact the clinic"),
        "{}",
        page.body
    );

    // Ten misses from one address, then a pause for everything from it.
    for i in 0..9 {
        let page = browser.get(&format!("/join/not-a-token-{i}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
    }
    let page = browser.get("/join/not-a-token-x").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert!(page.contains("Wait 5 minute(s)"), "{}", page.body);
    app.advance(Duration::minutes(5));
    assert_eq!(
        browser.get("/join/not-a-token-y").await.status,
        StatusCode::NOT_FOUND
    );
}
