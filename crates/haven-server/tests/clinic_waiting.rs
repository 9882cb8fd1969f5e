//! The clinic's waiting room: a live list of everyone waiting in the clinic's consultations
//! today (how long, connected or not, their pre-call check, the appointment and its
//! clinician), seen by the clinic's staff and nobody else, updated by server-sent events
//! when someone starts waiting or leaves; messages sent from it; and passing a
//! consultation to another clinician of the clinic.

mod common;
mod signal_support;

use common::booking::Appointment;
use common::{Account, Browser, TestApp};
use haven_domain::consultation::JourneyStep;
use haven_domain::time::Duration;
use haven_domain::{AttendeeId, ClinicId, ConsultationId, OrgId, Role};
use haven_server::ops::transfer::TRANSFER_NOTICE;
use serde_json::{Value, json};
use signal_support::Client;

const PASSWORD: &str = "copper lantern orchard wisdom";

struct Clinic {
    app: TestApp,
    org: OrgId,
    clinic: ClinicId,
    doctor: Account,
    /// The doctor, signed in.
    desk: Browser,
}

async fn staff(
    app: &TestApp,
    org: &OrgId,
    email: &str,
    name: &str,
    roles: &[Role],
) -> (Account, Browser) {
    let account = app.add_user(org, email, name, roles, PASSWORD).await;
    let browser = app.browser();
    app.sign_in(&browser, email, PASSWORD).await.assert_home();
    (account, browser)
}

async fn join_clinic(app: &TestApp, org: &OrgId, clinic: &ClinicId, who: &Account) {
    haven_server::ops::orgs::set_membership(&app.state, &app.system(), org, clinic, &who.id, true)
        .await
        .expect("adding a member works");
}

/// A staff member of the organisation who works in the clinic, signed in.
async fn member(c: &Clinic, email: &str, name: &str, roles: &[Role]) -> (Account, Browser) {
    let (account, browser) = staff(&c.app, &c.org, email, name, roles).await;
    join_clinic(&c.app, &c.org, &c.clinic, &account).await;
    (account, browser)
}

async fn clinic() -> Clinic {
    let app = common::spawn_app().await;
    let org = app.create_org("Riverside Health").await;
    let clinic = app.create_clinic(&org, "Physiotherapy").await;
    let (doctor, desk) = staff(
        &app,
        &org,
        "dana@example.org",
        "Dana Doctor",
        &[Role::Clinician],
    )
    .await;
    join_clinic(&app, &org, &clinic, &doctor).await;
    Clinic {
        app,
        org,
        clinic,
        doctor,
        desk,
    }
}

/// Books a consultation today at `time` (UK) with `clinician`; returns it, its patient and
/// the patient's link token.
async fn booking(
    c: &Clinic,
    time: &str,
    clinician: &str,
    name: &str,
) -> (ConsultationId, AttendeeId, String) {
    let today = haven_domain::uk_time::local(c.app.now()).date();
    let mut appointment = Appointment::new(&c.clinic, today, time);
    appointment.clinician = clinician;
    appointment.name = name;
    let done = c.app.book(&c.org, &appointment).await;
    let attendee = c.app.store.attendees(&c.org, &done.id).await.unwrap()[0]
        .id
        .clone();
    (done.id, attendee, done.links[0].1.token().to_owned())
}

/// The patient's page joins with their link: they are in the waiting area.
async fn wait(app: &TestApp, token: &str) -> Client {
    let mut patient = Client::open(&app.base, None).await;
    patient.join_with(&json!({"invite": token})).await;
    assert_eq!(patient.expect("stage").await["stage"], "waiting");
    patient
}

/// A server-sent event stream, read event by event.
struct Events {
    resp: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(browser: &Browser, path: &str) -> Events {
        let resp = browser
            .client
            .get(browser.url(path))
            .send()
            .await
            .expect("the stream opens");
        assert_eq!(resp.status(), 200);
        let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Events {
            resp,
            buffer: String::new(),
        }
    }

    /// The next `waiting` event's data.
    async fn next(&mut self) -> Value {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                let data: String = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                if event.lines().any(|l| l == "event: waiting") {
                    return serde_json::from_str(&data).expect("the data is JSON");
                }
                continue;
            }
            let chunk = tokio::time::timeout(signal_support::WAIT, self.resp.chunk())
                .await
                .expect("an event arrives in time")
                .expect("the stream reads")
                .expect("the stream goes on");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    /// Events until one whose count line is `count`.
    async fn until(&mut self, count: &str) -> Value {
        loop {
            let event = self.next().await;
            if event["count"] == count {
                return event;
            }
        }
    }
}

#[tokio::test]
async fn the_clinics_staff_see_everyone_waiting_today_live_with_their_check_and_appointment() {
    let c = clinic().await;
    let app = &c.app;
    let (id, patient_id, token) = booking(&c, "10:30", c.doctor.id.as_str(), "Sam Patient").await;
    let (_, _, other_token) = booking(&c, "11:00", "", "Kim Other").await;
    let waiting_path = format!("/clinics/{}/waiting", c.clinic);
    let page = c.desk.get(&waiting_path).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Nobody is waiting."), "{}", page.body);
    assert!(page.contains("/assets/waiting.js"));

    let mut events = Events::open(&c.desk, &format!("{waiting_path}/events")).await;
    assert_eq!(events.next().await["count"], "Nobody is waiting.");

    // The check failed on the camera; then they wait: the stream says so at once.
    let mut tx = app.store.begin().await.unwrap();
    tx.journey_step(
        &c.org,
        &patient_id,
        JourneyStep::CheckFailed,
        Some("no_camera"),
        app.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut patient = wait(app, &token).await;
    let event = events.until("1 person is waiting.").await;
    let rows = event["rows"].as_str().unwrap();
    assert!(
        rows.contains("Sam Patient") && rows.contains("No camera (sound only)"),
        "{rows}"
    );
    assert!(
        rows.contains(&format!("/consultations/{id}/attendees/{patient_id}/admit")),
        "{rows}"
    );

    // The page, reloaded minutes later, says how long, and everything else.
    app.advance(Duration::minutes(7));
    let page = c.desk.get(&waiting_path).await;
    let text = page.text();
    for expected in [
        "1 person is waiting.",
        "Sam Patient",
        "7 min",
        "connected",
        "failed: No camera (sound only)",
        "10:30 with Dana Doctor",
        "Check identity and admit",
        "Open the call",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    assert!(
        !text.contains("Kim Other"),
        "only people waiting are listed"
    );
    // Names are shown, never put in a link or a form's address.
    for target in page.body.split('"').filter(|s| s.starts_with('/')) {
        assert!(
            !target.contains("Sam") && !target.contains("Patient"),
            "{target}"
        );
    }

    // A second person waiting, with no check yet, and with any clinician.
    let mut second = wait(app, &other_token).await;
    let event = events.until("2 people are waiting.").await;
    let rows = event["rows"].as_str().unwrap();
    assert!(
        rows.contains("Kim Other")
            && rows.contains("not yet")
            && rows.contains("11:00 with any clinician"),
        "{rows}"
    );
    // Longest waiting first.
    assert!(rows.find("Sam Patient") < rows.find("Kim Other"), "{rows}");

    // One leaves: gone from the list. The other's page drops: reconnecting.
    patient.send(json!({"type": "leave"})).await;
    let event = events.until("1 person is waiting.").await;
    assert!(!event["rows"].as_str().unwrap().contains("Sam Patient"));
    second.socket.close(None).await.unwrap();
    loop {
        let event = events.next().await;
        if event["rows"].as_str().unwrap().contains("reconnecting") {
            break;
        }
    }
    let page = c.desk.get(&waiting_path).await;
    assert!(
        !page.contains("Sam Patient") && page.text().contains("reconnecting"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn only_the_clinics_staff_and_the_organisations_admins_see_its_waiting_room() {
    let c = clinic().await;
    let app = &c.app;
    let (_, _, token) = booking(&c, "10:30", "", "Sam Patient").await;
    let _patient = wait(app, &token).await;
    let path = format!("/clinics/{}/waiting", c.clinic);

    let (_, desk_browser) = member(
        &c,
        "rae@example.org",
        "Rae Reception",
        &[Role::Receptionist],
    )
    .await;
    let page = desk_browser.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(
        page.contains("Sam Patient") && page.contains("Send message"),
        "{}",
        page.body
    );
    assert!(
        !page.contains("Check identity and admit"),
        "receptionists do not admit"
    );

    let (_, admin) = staff(app, &c.org, "ann@example.org", "Ann Admin", &[Role::Admin]).await;
    assert_eq!(
        admin.get(&path).await.status,
        200,
        "an administrator of the organisation"
    );

    // Another clinic's clinician, an auditor, another organisation's administrator and
    // a made-up clinic: not found, for the page and its events alike.
    let podiatry = app.create_clinic(&c.org, "Podiatry").await;
    let (elsewhere, elsewhere_browser) = staff(
        app,
        &c.org,
        "pat@example.org",
        "Pat Podiatrist",
        &[Role::Clinician],
    )
    .await;
    join_clinic(app, &c.org, &podiatry, &elsewhere).await;
    let (_, auditor_browser) =
        member(&c, "ian@example.org", "Ian Auditor", &[Role::IgAuditor]).await;
    let hillside = app.create_org("Hillside Practice").await;
    let (_, stranger) = staff(
        app,
        &hillside,
        "hal@example.org",
        "Hal Admin",
        &[Role::Admin],
    )
    .await;
    for browser in [&elsewhere_browser, &auditor_browser, &stranger] {
        for p in [path.clone(), format!("{path}/events")] {
            let page = browser.get(&p).await;
            assert_eq!(page.status, 404, "{p}");
            assert!(!page.contains("Sam Patient"));
        }
    }
    assert_eq!(
        c.desk.get("/clinics/not-a-clinic/waiting").await.status,
        404
    );
    let other_clinic = format!("/clinics/{podiatry}/waiting");
    assert_eq!(c.desk.get(&other_clinic).await.status, 404);
    // Signed out: to the sign-in page, not the list.
    let anonymous = app.browser().get(&path).await;
    assert!(!anonymous.contains("Sam Patient") && anonymous.status != 200);
}

#[tokio::test]
async fn an_open_waiting_room_does_not_keep_an_unattended_session_signed_in() {
    let c = clinic().await;
    let app = &c.app;
    let path = format!("/clinics/{}/waiting/events", c.clinic);
    // The page reconnects its stream by itself; that is not someone at the desk.
    app.advance(Duration::minutes(20));
    let mut events = Events::open(&c.desk, &path).await;
    assert_eq!(events.next().await["count"], "Nobody is waiting.");
    drop(events);
    app.advance(Duration::minutes(11));
    c.desk.get("/").await.assert_redirect("/signin");
}

#[tokio::test]
async fn a_message_sent_from_the_list_reaches_only_that_person_and_returns_to_the_list() {
    let c = clinic().await;
    let app = &c.app;
    let (id, attendee, token) = booking(&c, "10:30", "", "Sam Patient").await;
    let mut patient = wait(app, &token).await;
    let list = c.desk.get(&format!("/clinics/{}/waiting", c.clinic)).await;
    let notice = format!("/consultations/{id}/attendees/{attendee}/notice");
    assert!(list.contains(&notice), "{}", list.body);
    let sent = c
        .desk
        .post_form_with(
            &list.csrf(),
            &notice,
            &[("notice", "Running 10 minutes late"), ("back", "clinic")],
        )
        .await;
    sent.assert_redirect(&format!("/clinics/{}/waiting", c.clinic));
    assert_eq!(
        patient.expect("notice").await["text"],
        "Running 10 minutes late"
    );

    let empty = c
        .desk
        .post_form_with(
            &list.csrf(),
            &notice,
            &[("notice", "  "), ("back", "clinic")],
        )
        .await;
    assert_eq!(empty.status, 400);
    assert!(empty.contains("1 to 300 characters"), "{}", empty.body);
}

#[tokio::test]
async fn a_consultation_passes_to_another_clinician_of_the_clinic_who_finds_the_patient_waiting() {
    let c = clinic().await;
    let app = &c.app;
    let (id, _, token) = booking(&c, "10:30", c.doctor.id.as_str(), "Sam Patient").await;
    let (second, second_browser) =
        member(&c, "eli@example.org", "Eli Second", &[Role::Clinician]).await;
    let (outsider, _) = staff(
        app,
        &c.org,
        "oz@example.org",
        "Oz Outside",
        &[Role::Clinician],
    )
    .await;
    let (desk, _) = member(
        &c,
        "rae@example.org",
        "Rae Reception",
        &[Role::Receptionist],
    )
    .await;
    let mut patient = wait(app, &token).await;

    let path = format!("/consultations/{id}/transfer");
    let form = c.desk.get(&path).await;
    assert_eq!(form.status, 200);
    assert!(
        form.contains("Eli Second")
            && !form.contains("Oz Outside")
            && !form.contains("Rae Reception"),
        "{}",
        form.body
    );
    assert!(
        !form.contains(&format!("value=\"{}\"", c.doctor.id)),
        "not the current clinician"
    );

    for (to, message) in [
        (outsider.id.as_str(), "member of this consultation's clinic"),
        (desk.id.as_str(), "does not see patients"),
        (c.doctor.id.as_str(), "already with this clinician"),
        ("", "Choose a clinician of this clinic"),
        (
            "0123456789abcdef0123456789abcdef",
            "Choose a clinician of this clinic",
        ),
    ] {
        let refused = c
            .desk
            .post_form_with(&form.csrf(), &path, &[("clinician", to)])
            .await;
        assert_eq!(refused.status, 400, "{to}");
        refused.assert_field_error("clinician", message);
    }
    assert!(app.audit_of("consultation.transfer").await.is_empty());
    let c_now = app.store.consultation(&c.org, &id).await.unwrap();
    assert_eq!(c_now.clinician_id.as_ref(), Some(&c.doctor.id));

    let done = c
        .desk
        .post_form_with(&form.csrf(), &path, &[("clinician", second.id.as_str())])
        .await;
    done.assert_redirect(&format!("/consultations/{id}"));
    assert_eq!(
        app.store
            .consultation(&c.org, &id)
            .await
            .unwrap()
            .clinician_id,
        Some(second.id.clone())
    );
    let audit = app.audit_of("consultation.transfer").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(
        audit[0].detail,
        format!("from={} to={}", c.doctor.id, second.id)
    );
    // The patient stays connected, waiting, and is told.
    assert_eq!(patient.expect("notice").await["text"], TRANSFER_NOTICE);
    patient.send(json!({"type": "ping"})).await;
    assert_eq!(patient.expect("pong").await["type"], "pong");

    // The new clinician finds them on the clinic's waiting list and their day list.
    let list = second_browser
        .get(&format!("/clinics/{}/waiting", c.clinic))
        .await;
    assert!(
        list.text().contains("10:30 with Eli Second") && list.contains("Sam Patient"),
        "{}",
        list.body
    );
    let day = second_browser
        .get(&format!("/consultations?clinic={}", c.clinic))
        .await;
    assert!(day.text().contains("Eli Second"), "{}", day.body);

    // Over is over: a cancelled consultation is not passed on.
    let csrf = c.desk.get(&format!("/consultations/{id}")).await.csrf();
    drop(patient);
    c.desk
        .post_form_with(&csrf, &format!("/consultations/{id}/cancel"), &[])
        .await;
    let refused = c
        .desk
        .post_form_with(&csrf, &path, &[("clinician", c.doctor.id.as_str())])
        .await;
    assert_eq!(refused.status, 400);
    refused.assert_field_error("clinician", "was cancelled");
    assert_eq!(app.audit_of("consultation.transfer").await.len(), 1);
}

#[tokio::test]
async fn someone_in_the_call_goes_back_to_waiting_when_the_consultation_is_passed_on() {
    let c = clinic().await;
    let app = &c.app;
    let (id, attendee, token) = booking(&c, "10:30", c.doctor.id.as_str(), "Sam Patient").await;
    let (second, _) = member(&c, "eli@example.org", "Eli Second", &[Role::Clinician]).await;
    let mut patient = wait(app, &token).await;
    let admit = format!("/consultations/{id}/attendees/{attendee}/admit");
    let form = c.desk.get(&admit).await;
    let checklist = [
        ("identity_confirmed", "yes"),
        ("record_open", "yes"),
        ("private_space", "yes"),
        ("location", "Home"),
    ];
    c.desk
        .post_form_with(&form.csrf(), &admit, &checklist)
        .await;
    assert_eq!(patient.expect("stage").await["stage"], "admitted");

    let path = format!("/consultations/{id}/transfer");
    let done = c
        .desk
        .post_form_with(&form.csrf(), &path, &[("clinician", second.id.as_str())])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(patient.expect("stage").await["stage"], "waiting");
    assert_eq!(patient.expect("notice").await["text"], TRANSFER_NOTICE);
    let list = c.desk.get(&format!("/clinics/{}/waiting", c.clinic)).await;
    assert!(list.text().contains("with Eli Second"), "{}", list.body);
}

#[tokio::test]
async fn a_patient_waiting_before_midnight_for_an_appointment_after_it_is_listed() {
    let c = clinic().await;
    let app = &c.app;
    // 23:40 UK time (GMT in March): an out-of-hours clinic's next patient arrives early.
    app.advance(Duration::minutes(14 * 60 + 40));
    let tomorrow = haven_domain::uk_time::local(app.now())
        .date()
        .next_day()
        .unwrap();
    let mut appointment = Appointment::new(&c.clinic, tomorrow, "00:30");
    appointment.clinician = c.doctor.id.as_str();
    appointment.name = "Sam Patient";
    let done = app.book(&c.org, &appointment).await;
    let _patient = wait(app, done.links[0].1.token()).await;

    let desk = app.browser();
    app.sign_in(&desk, "dana@example.org", PASSWORD)
        .await
        .assert_home();
    let page = desk.get(&format!("/clinics/{}/waiting", c.clinic)).await;
    assert!(
        page.contains("1 person is waiting.") && page.contains("Sam Patient"),
        "{}",
        page.body
    );
}
