//! In-call chat over a real WebSocket: messages reach everyone in the call and nobody
//! waiting or on hold; someone admitted later sees only what is said from then on; the
//! length and rate limits and bad messages get named errors; the chat is discarded at
//! the end unless a clinician keeps it (saved, audited with a count, never the text), and
//! the organisation's policy can forbid keeping it. Files: only when the policy allows,
//! PDF, PNG and JPEG by their bytes, up to 5 MiB, for the people in the call only.

mod common;
mod signal_support;

use common::TestApp;
use common::booking::Appointment;
use haven_domain::audit::Actor;
use haven_domain::time::Duration as Span;
use haven_domain::{AttendeeId, ConsultationId, OrgId, Role};
use haven_server::ops::Context;
use haven_server::ops::admission::{Checklist, Move, admit, move_attendee, notify_waiting};
use serde_json::{Value, json};
use signal_support::{Client, Incoming};

const PASSWORD: &str = "copper lantern orchard wisdom";

/// A booked consultation with its clinician and patient connected: the patient waits.
struct Call {
    app: TestApp,
    org: OrgId,
    id: ConsultationId,
    attendee: AttendeeId,
    doctor: haven_domain::UserId,
    clinician: Client,
    patient: Client,
}

/// Books a consultation in an organisation with this policy, and connects both sides.
async fn call_with(chat_retained: bool, file_sharing_allowed: bool) -> Call {
    let app = common::spawn_app().await;
    let org = app.create_org("Riverside Health").await;
    let mut policy = app.store.org(&org).await.unwrap().policy;
    policy.chat_retained = chat_retained;
    policy.file_sharing_allowed = file_sharing_allowed;
    haven_server::ops::orgs::set_policy(&app.state, &app.system(), &org, &policy)
        .await
        .unwrap();
    let clinic = app.create_clinic(&org, "Physiotherapy").await;
    let doctor = app.add_doctor(&org).await;
    let day = (app.now() + Span::hours(1)).date();
    let done = app
        .book(&org, &Appointment::new(&clinic, day, "23:59"))
        .await;
    let token = done.links[0].1.token().to_owned();
    let mut patient = Client::open(&app.base, None).await;
    patient.join_with(&json!({"invite": token})).await;
    assert_eq!(next_of(&mut patient, "stage").await["stage"], "waiting");
    let clinician = join_as_clinician(&app, &doctor, &done.id).await;
    let attendee = app.store.attendees(&org, &done.id).await.unwrap()[0]
        .id
        .clone();
    Call {
        org,
        id: done.id,
        attendee,
        doctor: doctor.id,
        clinician,
        patient,
        app,
    }
}

async fn join_as_clinician(app: &TestApp, who: &common::Account, id: &ConsultationId) -> Client {
    let browser = app.browser();
    app.sign_in(&browser, &who.email, &who.password)
        .await
        .assert_home();
    let mut client = Client::open(&app.base, Some(&browser.session_cookie())).await;
    client
        .join_with(&json!({"consultation": id.as_str()}))
        .await;
    client
}

impl Call {
    fn ctx(&self) -> Context {
        Context {
            actor: Actor::Staff(self.doctor.clone()),
            client_addr: None,
            now: self.app.now(),
        }
    }

    async fn admit(&mut self) {
        let checklist = Checklist {
            identity_confirmed: true,
            record_open: true,
            private_space: true,
            location: "Home",
        };
        admit(
            &self.app.state,
            &self.ctx(),
            &self.org,
            &self.id,
            &self.attendee,
            &checklist,
        )
        .await
        .expect("admitted");
        assert_eq!(
            next_of(&mut self.patient, "stage").await["stage"],
            "admitted"
        );
    }

    async fn hold(&mut self, on: bool) {
        move_attendee(
            &self.app.state,
            &self.ctx(),
            &self.org,
            &self.id,
            &self.attendee,
            Move::Hold(on),
        )
        .await
        .expect("moved");
        let stage = if on { "held" } else { "admitted" };
        assert_eq!(next_of(&mut self.patient, "stage").await["stage"], stage);
    }

    /// A notice to the patient, through the room: once it arrives, the room has dealt
    /// with everything sent to it before.
    async fn barrier(&mut self, text: &str) {
        notify_waiting(&self.app.state, &self.org, &self.id, &self.attendee, text)
            .await
            .expect("the room is live");
        let next = next_of(&mut self.patient, "notice").await;
        assert_eq!(next["text"], text, "nothing else reached the patient first");
    }

    async fn end(mut self) -> TestApp {
        self.clinician.send(json!({"type": "end"})).await;
        next_of(&mut self.patient, "ended").await;
        next_of(&mut self.clinician, "ended").await;
        self.app
    }
}

/// Reads until a message of type `ty`, skipping list, stage and microphone updates; any
/// other message (a chat that should not have arrived) fails the test.
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

async fn say(client: &mut Client, text: &str) {
    client.send(json!({"type": "chat", "text": text})).await;
}

#[tokio::test]
async fn chat_reaches_the_people_in_the_call_and_nobody_waiting_or_on_hold() {
    let mut c = call_with(false, false).await;
    // Waiting: the patient can neither send nor receive.
    say(&mut c.patient, "is anyone there?").await;
    let refused = next_of(&mut c.patient, "error").await;
    assert_eq!(refused["code"], "not_in_call");
    say(&mut c.clinician, "Before you come in").await;
    assert_eq!(
        next_of(&mut c.clinician, "chat").await["text"],
        "Before you come in"
    );
    c.barrier("Nearly ready").await;

    c.admit().await;
    say(&mut c.clinician, "Hello, <b>Sam</b> — see www.example.com").await;
    for client in [&mut c.patient, &mut c.clinician] {
        let got = next_of(client, "chat").await;
        assert_eq!(
            got["text"], "Hello, <b>Sam</b> — see www.example.com",
            "markup is passed on as text"
        );
        assert_eq!(got["link"], true);
        assert_eq!(got["name"], "Dana Doctor");
        assert_eq!(
            got["seq"], 2,
            "the message sent before admission is not shown"
        );
    }
    say(&mut c.patient, "Thanks, I can hear you").await;
    let got = next_of(&mut c.clinician, "chat").await;
    assert_eq!(got["text"], "Thanks, I can hear you");
    assert_eq!(got["link"], false);
    next_of(&mut c.patient, "chat").await;

    // On hold: apart from the chat too.
    c.hold(true).await;
    say(&mut c.patient, "hello?").await;
    assert_eq!(
        next_of(&mut c.patient, "error").await["code"],
        "not_in_call"
    );
    say(&mut c.clinician, "just a moment").await;
    next_of(&mut c.clinician, "chat").await;
    c.barrier("Back soon").await;
    c.hold(false).await;

    // Someone joining later sees only what is said from then on.
    let colleague = c
        .app
        .add_user(
            &c.org,
            "doc2@example.org",
            "Dev Doctor",
            &[Role::Clinician],
            PASSWORD,
        )
        .await;
    let mut late = join_as_clinician(&c.app, &colleague, &c.id).await;
    say(&mut late, "joining you").await;
    let first = next_of(&mut late, "chat").await;
    assert_eq!(first["text"], "joining you");
    assert_eq!(next_of(&mut c.patient, "chat").await["name"], "Dev Doctor");
}

#[tokio::test]
async fn too_long_too_fast_empty_and_malformed_messages_get_named_errors() {
    let mut c = call_with(false, false).await;
    c.admit().await;
    let p = &mut c.patient;
    say(p, &"é".repeat(1000)).await;
    assert_eq!(
        next_of(p, "chat").await["text"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        1000
    );
    say(p, &"é".repeat(1001)).await;
    let e = next_of(p, "error").await;
    assert_eq!(e["code"], "chat_too_long");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("1001 characters long; the longest is 1000")
    );
    for blank in ["", "   \n ", "\u{0007}\u{202E}"] {
        say(p, blank).await;
        assert_eq!(next_of(p, "error").await["code"], "chat_empty");
    }
    say(p, "a\u{0000}b\u{001B}c").await;
    assert_eq!(
        next_of(p, "chat").await["text"],
        "abc",
        "control characters are removed"
    );
    // Two sent so far in this instant; three more are allowed, then a wait.
    for i in 0..3 {
        say(p, &format!("message {i}")).await;
        next_of(p, "chat").await;
    }
    say(p, "one too many").await;
    let e = next_of(p, "error").await;
    assert_eq!(e["code"], "chat_rate_limited");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("5 messages every 10 seconds"),
        "{e}"
    );
    c.app.advance(Span::seconds(10));
    say(p, "after the wait").await;
    assert_eq!(next_of(p, "chat").await["text"], "after the wait");

    // Wrong shapes are protocol errors; a huge frame too; the connection stays usable.
    p.send(json!({"type": "chat", "text": 42})).await;
    assert_eq!(next_of(p, "error").await["code"], "invalid_field");
    p.send(json!({"type": "chat"})).await;
    assert_eq!(next_of(p, "error").await["code"], "missing_field");
    p.send(json!({"type": "chat", "text": "hi", "html": "<i>"}))
        .await;
    assert_eq!(next_of(p, "error").await["code"], "unknown_field");
    p.send(json!({"type": "chat", "text": "x".repeat(20_000)}))
        .await;
    let e = next_of(p, "error").await;
    assert_eq!(e["code"], "invalid_field");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("at most 1000 characters")
    );
    p.send(json!({"type": "chat", "text": "y".repeat(400 * 1024)}))
        .await;
    assert_eq!(next_of(p, "error").await["code"], "too_large");
    say(p, "still here").await;
    assert_eq!(next_of(p, "chat").await["text"], "still here");
    // The clinician saw each accepted message, in order, and nothing refused.
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("still here") {
        let m = next_of(&mut c.clinician, "chat").await;
        seen.push(m["text"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
}

#[tokio::test]
async fn the_chat_is_discarded_at_the_end_unless_kept() {
    let mut c = call_with(true, false).await;
    c.admit().await;
    say(&mut c.patient, "my private question").await;
    next_of(&mut c.patient, "chat").await;
    next_of(&mut c.clinician, "chat").await;
    let (org, id) = (c.org.clone(), c.id.clone());
    let app = c.end().await;
    assert!(app.store.saved_chat(&org, &id).await.unwrap().is_empty());
    assert!(app.audit_of("consultation.chat_save").await.is_empty());
}

#[tokio::test]
async fn a_kept_chat_is_saved_with_the_record_and_audited_without_its_text() {
    let mut c = call_with(true, false).await;
    c.admit().await;
    say(&mut c.patient, "first, before keeping").await;
    next_of(&mut c.patient, "chat").await;
    next_of(&mut c.clinician, "chat").await;
    // Only the clinician may keep it.
    c.patient.send(json!({"type": "chat_keep"})).await;
    assert_eq!(next_of(&mut c.patient, "error").await["code"], "not_host");
    c.clinician.send(json!({"type": "chat_keep"})).await;
    for client in [&mut c.patient, &mut c.clinician] {
        let kept = next_of(client, "chat_kept").await;
        assert_eq!(kept["saved"], 1);
    }
    say(&mut c.clinician, "second, after keeping").await;
    next_of(&mut c.patient, "chat").await;
    next_of(&mut c.clinician, "chat").await;
    let (org, id) = (c.org.clone(), c.id.clone());
    let app = c.end().await;
    let saved = app.store.saved_chat(&org, &id).await.unwrap();
    let texts: Vec<&str> = saved.iter().map(|l| l.body.as_str()).collect();
    assert_eq!(texts, ["first, before keeping", "second, after keeping"]);
    assert_eq!(saved[0].sender_name, "Sam");
    assert!(saved[0].sender_attendee.is_some() && saved[1].sender_user.is_some());
    let audit = app.audit_of("consultation.chat_save").await;
    let details: Vec<&str> = audit.iter().map(|a| a.detail.as_str()).collect();
    assert_eq!(details, ["messages=1", "messages=1"]);
    assert!(!details.iter().any(|d| d.contains("first")));
}

#[tokio::test]
async fn the_policy_can_forbid_keeping_chat() {
    let mut c = call_with(false, false).await;
    c.admit().await;
    say(&mut c.patient, "hello").await;
    next_of(&mut c.patient, "chat").await;
    next_of(&mut c.clinician, "chat").await;
    c.clinician.send(json!({"type": "chat_keep"})).await;
    let e = next_of(&mut c.clinician, "error").await;
    assert_eq!(e["code"], "not_allowed");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("does not allow keeping chat")
    );
    let (org, id) = (c.org.clone(), c.id.clone());
    let app = c.end().await;
    assert!(app.store.saved_chat(&org, &id).await.unwrap().is_empty());
}

/// Sends a file with a key; returns the status and the JSON answer.
async fn upload(app: &TestApp, key: Option<&str>, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/calls/files", app.base))
        .header("x-file-name", name)
        .body(bytes);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn files_are_shared_only_when_allowed_and_only_of_the_allowed_kinds() {
    let mut c = call_with(false, true).await;
    c.admit().await;
    let key = next_of(&mut c.patient, "chat_files").await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let doctor_key = {
        // The clinician joined before files were offered to the patient: they got theirs on joining.
        let mut k = None;
        while k.is_none() {
            if let Incoming::Msg(m) = c.clinician.recv().await
                && m["type"] == "chat_files"
            {
                k = m["key"].as_str().map(str::to_owned);
            }
        }
        k.unwrap()
    };
    let pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n".to_vec();
    let (status, info) = upload(
        &c.app,
        Some(key.as_str()),
        "letter%20from%20GP.pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(status, 201, "{info}");
    assert_eq!(info["name"], "letter from GP.pdf");
    let posted = next_of(&mut c.clinician, "chat").await;
    assert_eq!(posted["file"]["id"], info["id"]);
    assert_eq!(
        next_of(&mut c.patient, "chat").await["file"]["id"],
        info["id"]
    );
    let res = reqwest::Client::new()
        .get(format!(
            "{}/calls/files/{}",
            c.app.base,
            info["id"].as_str().unwrap()
        ))
        .bearer_auth(&doctor_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);

    // An HTML page named as a picture, an oversized file, and no key are refused.
    let (status, e) = upload(
        &c.app,
        Some(key.as_str()),
        "photo.png",
        b"<html><script>".to_vec(),
    )
    .await;
    assert_eq!((status, e["code"].as_str()), (415, Some("file_type")));
    let mut big = b"%PDF-".to_vec();
    big.resize(5 * 1024 * 1024 + 1, b'x');
    let (status, e) = upload(&c.app, Some(key.as_str()), "big.pdf", big).await;
    assert_eq!((status, e["code"].as_str()), (413, Some("file_too_large")));
    let (status, _) = upload(&c.app, None, "a.pdf", pdf.clone()).await;
    assert_eq!(status, 401);
    let (status, _) = upload(&c.app, Some("not-a-key"), "a.pdf", pdf.clone()).await;
    assert_eq!(status, 401);

    // On hold, the key no longer works; after the end, the files are gone.
    c.hold(true).await;
    let (status, e) = upload(&c.app, Some(key.as_str()), "a.pdf", pdf.clone()).await;
    assert_eq!((status, e["code"].as_str()), (403, Some("not_in_call")));
    c.hold(false).await;
    // Back in the call, a fresh key.
    next_of(&mut c.patient, "chat_files").await;
    let app = c.end().await;
    let (status, _) = upload(&app, Some(key.as_str()), "a.pdf", pdf).await;
    assert_eq!(status, 401, "the room's keys are revoked when it ends");
}

#[tokio::test]
async fn without_the_policy_there_is_no_file_key_and_uploads_are_refused() {
    let mut c = call_with(true, false).await;
    c.admit().await;
    // The first thing after admission is the chat, not a file key.
    say(&mut c.clinician, "no files here").await;
    assert_eq!(
        next_of(&mut c.patient, "chat").await["text"],
        "no files here"
    );
    let pdf = b"%PDF-1.7\n".to_vec();
    let (status, _) = upload(
        &c.app,
        Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        "a.pdf",
        pdf,
    )
    .await;
    assert_eq!(status, 401);
}
