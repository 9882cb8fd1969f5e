//! The one-time code of the patient's link, where the organisation's identity check asks
//! for it: a code goes by text message (here the console channel) after the name and date
//! of birth, the check and the waiting room stay closed until it is entered, wrong codes
//! count down to a lock-out, codes expire and are limited per hour, and the clinician sees
//! how it went. Time moves only by the test's clock.

mod common;
// Parts of the invitation tests' harness; each is used here only in part.
#[allow(dead_code)]
#[path = "invites_support/logs.rs"]
mod logs;
#[allow(dead_code)]
#[path = "invites_support/notify.rs"]
mod notify;

use std::sync::{Arc, Mutex};

use common::booking::Appointment;
use common::{Browser, Page, TestApp};
use haven_domain::identity_code::{ATTEMPTS, OneTimeCode};
use haven_domain::time::Duration;
use haven_domain::{AttendeeId, ConsultationId, IdentityCheck, OrgId, Role};
use haven_server::invites::transport::{ConsoleOut, Transport};
use haven_server::invites::worker::Worker;
use haven_store::outbox::{MessageStatus, Purpose};
use reqwest::StatusCode;
use serde_json::json;

const PASSWORD: &str = "copper lantern orchard wisdom";
const MOBILE: &str = "07700 900123";

struct Booked {
    app: TestApp,
    org: OrgId,
    id: ConsultationId,
    patient: AttendeeId,
    /// `/join/TOKEN`.
    path: String,
    token: String,
    /// The outbox worker, printing to `console`.
    worker: Worker,
    console: Arc<Mutex<Vec<String>>>,
}

/// A consultation an hour from now for Sam Patient, booked with `mobile` (or none), in an
/// organisation whose identity check is `check`.
async fn booked_with(app: TestApp, check: IdentityCheck, mobile: &str) -> Booked {
    let org = app.create_org("Riverside Health").await;
    let mut policy = app.store.org(&org).await.unwrap().policy;
    policy.identity_check = check;
    haven_server::ops::orgs::set_policy(&app.state, &app.system(), &org, &policy)
        .await
        .unwrap();
    let clinic = app.create_clinic(&org, "Physiotherapy").await;
    let mut appointment = Appointment::new(&clinic, app.now().date(), "23:30");
    appointment.mobile = mobile;
    let done = app.book(&org, &appointment).await;
    let token = done.links[0].1.token().to_owned();
    let patient = app.store.attendees(&org, &done.id).await.unwrap()[0]
        .id
        .clone();
    let (out, console) = ConsoleOut::capture();
    let worker = Worker::with_transport(&app.state, Transport::Console(out));
    Booked {
        org,
        id: done.id,
        patient,
        path: format!("/join/{token}"),
        token,
        worker,
        console,
        app,
    }
}

async fn booked(check: IdentityCheck) -> Booked {
    booked_with(common::spawn_app().await, check, MOBILE).await
}

impl Booked {
    /// Confirms name and date of birth on the landing page; returns the answer.
    async fn details(&self, browser: &Browser) -> Page {
        let page = browser.get(&self.path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        browser
            .post_form_with(
                &page.csrf(),
                &self.path,
                &[
                    ("name", "Sam Patient"),
                    ("date_of_birth-day", "27"),
                    ("date_of_birth-month", "3"),
                    ("date_of_birth-year", "1984"),
                ],
            )
            .await
    }

    /// Runs the outbox worker and returns the newest code it printed for the patient.
    async fn sent_code(&self) -> String {
        self.worker.step(self.app.now()).await.unwrap();
        let prefix = format!("One-time code for patient of consultation {}: ", self.id);
        let lines = self.console.lock().unwrap().clone();
        let code = lines
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no code printed: {lines:?}"));
        assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
        code.to_owned()
    }

    /// The form token, from the landing page (the locked-out page has no form).
    async fn csrf(&self, browser: &Browser) -> String {
        browser.get(&self.path).await.csrf()
    }

    async fn enter(&self, browser: &Browser, code: &str) -> Page {
        let code_path = format!("{}/code", self.path);
        let csrf = self.csrf(browser).await;
        browser
            .post_form_with(&csrf, &code_path, &[("code", code)])
            .await
    }

    async fn ask_again(&self, browser: &Browser) -> Page {
        let csrf = self.csrf(browser).await;
        browser
            .post_form_with(&csrf, &format!("{}/code/new", self.path), &[])
            .await
    }

    /// The admission page's one-time code line, as the clinician reads it.
    async fn admission_says(&self) -> String {
        let doctor = self
            .app
            .add_user(
                &self.org,
                &format!("doc{}@example.org", rand::random::<u32>()),
                "Dana Doctor",
                &[Role::Clinician],
                PASSWORD,
            )
            .await;
        let clinician = self.app.browser();
        self.app
            .sign_in(&clinician, &doctor.email, &doctor.password)
            .await
            .assert_home();
        let page = clinician
            .get(&format!(
                "/consultations/{}/attendees/{}/admit",
                self.id, self.patient
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let start = page.body.find("id=\"code-status\"").expect("a code row");
        let row = &page.body[start..];
        let row = &row[..row.find("</tr>").unwrap()];
        let text: String = Page {
            body: format!("<tr {row}"),
            ..page
        }
        .text();
        text.trim().to_owned()
    }

    fn wrong(&self, right: &str) -> String {
        let n: u32 = right.parse().unwrap();
        format!("{:06}", (n + 1) % 1_000_000)
    }
}

#[tokio::test]
async fn without_the_code_policy_the_details_lead_straight_to_the_check() {
    let b = booked(IdentityCheck::NameAndDateOfBirth).await;
    let browser = b.app.browser();
    b.details(&browser)
        .await
        .assert_redirect(&format!("{}/check", b.path));
    assert_eq!(
        browser.get(&format!("{}/check", b.path)).await.status,
        StatusCode::OK
    );
    // No code is asked for or sent, and the code page sends people on.
    assert!(
        b.app
            .store
            .identity_code(&b.org, &b.patient)
            .await
            .unwrap()
            .is_none()
    );
    browser
        .get(&format!("{}/code", b.path))
        .await
        .assert_redirect(&format!("{}/check", b.path));
    assert!(b.admission_says().await.ends_with("not required"));
}

#[tokio::test]
async fn the_code_goes_to_the_phone_and_opens_the_check_only_once_entered() {
    let b = booked(IdentityCheck::NameDateOfBirthAndSmsCode).await;
    let browser = b.app.browser();
    let landing = browser.get(&b.path).await;
    assert!(landing.contains("code by text message"), "{}", landing.body);
    let code_path = format!("{}/code", b.path);
    b.details(&browser).await.assert_redirect(&code_path);

    // Before the code: the check page and the waiting room are closed.
    browser
        .get(&format!("{}/check", b.path))
        .await
        .assert_redirect(&code_path);
    let mut socket = common_ws(&b.app.base).await;
    let refused = join_invite(&mut socket, &b.token).await;
    assert_eq!(refused["code"], "unauthenticated", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("confirm who you are")
    );

    let page = browser.get(&code_path).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "inputmode=\"numeric\"",
        "autocomplete=\"one-time-code\"",
        "Send a new code",
        "works for 10 minutes",
    ] {
        assert!(page.contains(text), "{text:?} missing: {}", page.body);
    }
    assert!(b.admission_says().await.ends_with("not passed"));

    // The message: queued as a code, sent by the worker, only the code's hash kept.
    let message = b
        .app
        .store
        .latest_code_message(&b.org, &b.patient)
        .await
        .unwrap()
        .expect("a code message");
    assert_eq!(message.purpose, Purpose::Code);
    let code = b.sent_code().await;
    let sent = b.app.store.message(&b.org, &message.id).await.unwrap();
    assert_eq!(sent.status, MessageStatus::Sent);
    let stored = b
        .app
        .store
        .identity_code(&b.org, &b.patient)
        .await
        .unwrap()
        .unwrap();
    let hash = stored.code_hash.expect("a hash");
    assert!(!hash.contains(&code));
    assert_eq!(hash, OneTimeCode::parse(&code).unwrap().hash(&b.patient));
    // The invitation list is not disturbed by code messages.
    assert!(
        b.app
            .store
            .messages_for_consultation(&b.org, &b.id)
            .await
            .unwrap()
            .iter()
            .all(|m| m.purpose == Purpose::Invite)
    );

    // Typing mistakes spend nothing; a wrong code spends one try and says how many are left.
    let typo = b.enter(&browser, "12 34").await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    typo.assert_field_error("code", "6 digits");
    let wrong = b.enter(&browser, &b.wrong(&code)).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    wrong.assert_field_error("code", "you have 4 tries left");
    let left = b
        .app
        .store
        .identity_code(&b.org, &b.patient)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left.attempts_left, ATTEMPTS - 1);

    // The right code, typed as people copy it, opens the check.
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    b.enter(&browser, &spaced)
        .await
        .assert_redirect(&format!("{}/check", b.path));
    assert_eq!(
        browser.get(&format!("{}/check", b.path)).await.status,
        StatusCode::OK
    );
    browser
        .get(&code_path)
        .await
        .assert_redirect(&format!("{}/check", b.path));
    let passed = b.app.audit_of("identity_code.passed").await;
    assert_eq!(passed.len(), 1);
    assert_eq!(passed[0].object, format!("attendee:{}", b.patient));
    assert!(
        b.app.audit_of("identity_code.wrong").await[0]
            .detail
            .contains("attempts_left=4")
    );
    let says = b.admission_says().await;
    assert!(says.ends_with("passed at 09:00"), "{says}");
    for entry in b.app.audit().await {
        assert!(!entry.detail.contains(&code), "{entry:?}");
    }
}

#[tokio::test]
async fn five_wrong_codes_lock_the_person_out_and_the_clinician_sees_it() {
    let b = booked(IdentityCheck::NameDateOfBirthAndSmsCode).await;
    let browser = b.app.browser();
    b.details(&browser).await;
    let code = b.sent_code().await;
    let wrong = b.wrong(&code);
    for left in (1..ATTEMPTS).rev() {
        let page = b.enter(&browser, &wrong).await;
        page.assert_field_error("code", &format!("you have {left} tr"));
    }
    let last = b.enter(&browser, &wrong).await;
    assert_eq!(last.status, StatusCode::FORBIDDEN);
    assert!(last.contains("Too many wrong codes") && last.contains("Call your clinic"));

    // Nothing goes on: not the right code, not a new one, not the check.
    let right = b.enter(&browser, &code).await;
    assert_eq!(right.status, StatusCode::FORBIDDEN);
    assert_eq!(b.ask_again(&browser).await.status, StatusCode::FORBIDDEN);
    let check = browser.get(&format!("{}/check", b.path)).await;
    check.assert_redirect(&format!("{}/code", b.path));
    let page = browser.get(&format!("{}/code", b.path)).await;
    assert!(page.contains("Too many wrong codes"));
    assert_eq!(b.app.audit_of("identity_code.locked").await.len(), 1);
    let says = b.admission_says().await;
    assert!(says.contains("too many wrong codes at 09:00"), "{says}");
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes_and_a_new_one_replaces_it() {
    let b = booked(IdentityCheck::NameDateOfBirthAndSmsCode).await;
    let browser = b.app.browser();
    b.details(&browser).await;
    let first = b.sent_code().await;
    b.app.advance(Duration::minutes(10));
    let late = b.enter(&browser, &first).await;
    late.assert_field_error("code", "expired");
    // Expired codes spend no tries.
    let record = b
        .app
        .store
        .identity_code(&b.org, &b.patient)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.attempts_left, ATTEMPTS);

    b.ask_again(&browser)
        .await
        .assert_redirect(&format!("{}/code?sent=new", b.path));
    let second = b.sent_code().await;
    if second != first {
        b.enter(&browser, &first)
            .await
            .assert_field_error("code", "not right");
    }
    b.app.advance(Duration::minutes(9));
    b.enter(&browser, &second)
        .await
        .assert_redirect(&format!("{}/check", b.path));
}

#[tokio::test]
async fn at_most_three_codes_are_sent_in_an_hour() {
    let b = booked(IdentityCheck::NameDateOfBirthAndSmsCode).await;
    let browser = b.app.browser();
    b.details(&browser).await;
    // A corrected date of birth sends no second code.
    b.details(&browser).await;
    b.app.advance(Duration::minutes(1));
    b.ask_again(&browser)
        .await
        .assert_redirect(&format!("{}/code?sent=new", b.path));
    b.app.advance(Duration::minutes(1));
    b.ask_again(&browser)
        .await
        .assert_redirect(&format!("{}/code?sent=new", b.path));
    let refused = b.ask_again(&browser).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.contains("Wait 58 minute(s)"), "{}", refused.body);
    assert_eq!(b.app.audit_of("identity_code.requested").await.len(), 3);
    b.app.advance(Duration::minutes(58));
    b.ask_again(&browser)
        .await
        .assert_redirect(&format!("{}/code?sent=new", b.path));
}

#[tokio::test]
async fn without_a_booked_mobile_the_patient_goes_on_and_the_clinician_is_told() {
    let b = booked_with(
        common::spawn_app().await,
        IdentityCheck::NameDateOfBirthAndSmsCode,
        "",
    )
    .await;
    let browser = b.app.browser();
    b.details(&browser)
        .await
        .assert_redirect(&format!("{}/check", b.path));
    assert_eq!(
        browser.get(&format!("{}/check", b.path)).await.status,
        StatusCode::OK
    );
    assert!(
        b.app
            .store
            .latest_code_message(&b.org, &b.patient)
            .await
            .unwrap()
            .is_none()
    );
    let says = b.admission_says().await;
    assert!(says.ends_with("no code: no mobile number booked"), "{says}");
}

#[tokio::test]
async fn through_notify_the_text_carries_only_the_code_and_who_it_is_from() {
    let stand_in = notify::StandIn::start().await;
    stand_in.then(notify::Reply::Error(400, "BadRequestError"));
    let app = common::spawn_app_with(|c| notify::use_notify(c, &stand_in.base_url, None)).await;
    let b = booked_with(app, IdentityCheck::NameDateOfBirthAndSmsCode, MOBILE).await;
    let worker = Worker::new(&b.app.state).expect("the Notify transport");
    let browser = b.app.browser();
    b.details(&browser).await;

    // Refused: the page says the text could not be sent, and whom to call.
    worker.step(b.app.now()).await.unwrap();
    let page = browser.get(&format!("{}/code", b.path)).await;
    assert!(
        page.contains("We could not send the text message"),
        "{}",
        page.body
    );
    assert_eq!(b.app.audit_of("identity_code.failed").await.len(), 1);

    b.ask_again(&browser).await;
    worker.step(b.app.now()).await.unwrap();
    let requests = stand_in.requests();
    assert_eq!(requests.len(), 2);
    let sent = &requests[1];
    assert_eq!((sent.kind, sent.status), ("sms", 201), "{}", sent.body);
    assert_eq!(sent.body["template_id"], notify::CODE_TEMPLATE);
    assert_eq!(sent.body["phone_number"], "+447700900123");
    let fields = sent.body["personalisation"].as_object().unwrap();
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["clinic", "code", "organisation"]);
    assert_eq!(fields["clinic"], "Physiotherapy");
    assert_eq!(fields["organisation"], "Riverside Health");
    let code = fields["code"].as_str().unwrap();
    b.enter(&browser, code)
        .await
        .assert_redirect(&format!("{}/check", b.path));
    assert_eq!(b.app.audit_of("identity_code.sent").await.len(), 1);
}

// Current-thread runtime: the server's tasks log to this thread's capture.
#[tokio::test(flavor = "current_thread")]
async fn the_code_never_reaches_the_logs() {
    let (capture, _guard) = logs::Capture::start();
    let b = booked(IdentityCheck::NameDateOfBirthAndSmsCode).await;
    let browser = b.app.browser();
    b.details(&browser).await;
    let code = b.sent_code().await;
    let wrong = b.wrong(&code);
    b.enter(&browser, &wrong).await;
    b.ask_again(&browser).await;
    let second = b.sent_code().await;
    b.enter(&browser, &second).await;
    let mut secrets = vec![code, second, wrong, b.token.clone()];
    secrets.extend(["Sam Patient", "7700900123", "900123"].map(String::from));
    capture.assert_free_of(&secrets);
    assert!(capture.text().contains("one-time code sent"));
}

async fn common_ws(base: &str) -> WsSocket {
    let url = format!("{}/ws", base.replace("http://", "ws://"));
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the socket opens");
    socket
}

type WsSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends `join` with an invitation token; returns the `error` the server answers with.
async fn join_invite(socket: &mut WsSocket, token: &str) -> serde_json::Value {
    use futures_util::{SinkExt, StreamExt};
    let join = json!({"type": "join", "v": 1, "invite": token}).to_string();
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text(join.into()))
        .await
        .unwrap();
    while let Some(Ok(msg)) = socket.next().await {
        if let tokio_tungstenite::tungstenite::Message::Text(text) = msg {
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            if value["type"] == "error" {
                return value;
            }
        }
    }
    panic!("the socket closed without an error message");
}
