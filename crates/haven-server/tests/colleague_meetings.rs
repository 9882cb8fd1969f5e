//! Colleague meetings: the host books one in the web form naming colleagues from the
//! organisation's staff; a colleague sees it on their home page, joins signed in (no link,
//! no identity check), waits apart until the host admits them with a plain "Admit"
//! (audited), and the host's end closes everything. Staff who are not listed cannot reach
//! it, and bad choices of colleague are named on their field.

mod common;
mod signal_support;

use std::time::Duration;

use common::{Account, Browser, TestApp};
use haven_domain::audit::Actor;
use haven_domain::consultation::{AttendeeRole, Status};
use haven_domain::{ClinicId, ConsultationId, OrgId, Role};
use serde_json::json;
use signal_support::{Client, MediaClient, connect};

const PASSWORD: &str = "copper lantern orchard wisdom";

struct Team {
    app: TestApp,
    org: OrgId,
    clinic: ClinicId,
    host: Account,
    host_browser: Browser,
    colleague: Account,
    colleague_browser: Browser,
    bystander_browser: Browser,
    disabled: Account,
}

async fn team() -> Team {
    let app = common::spawn_app().await;
    let org = app.create_org("Riverside Health").await;
    let clinic = app.create_clinic(&org, "Diabetes MDT").await;
    let add = |email: &'static str, name: &'static str, role: Role| {
        let app = &app;
        let org = &org;
        async move { app.add_user(org, email, name, &[role], PASSWORD).await }
    };
    let host = add("host@example.org", "Hana Host", Role::Clinician).await;
    // A receptionist: colleagues need not be clinicians to attend.
    let colleague = add("col@example.org", "Colin Colleague", Role::Receptionist).await;
    let bystander = add("by@example.org", "Bea Bystander", Role::Clinician).await;
    let disabled = add("gone@example.org", "Gil Gone", Role::Clinician).await;
    haven_server::ops::accounts::set_disabled(&app.store, &app.system(), &org, &disabled.id, true)
        .await
        .expect("disabling works");
    let signed_in = |who: &Account| {
        let app = &app;
        let (email, password) = (who.email.clone(), who.password.clone());
        async move {
            let browser = app.browser();
            app.sign_in(&browser, &email, &password).await.assert_home();
            browser
        }
    };
    let host_browser = signed_in(&host).await;
    let colleague_browser = signed_in(&colleague).await;
    let bystander_browser = signed_in(&bystander).await;
    Team {
        app,
        org,
        clinic,
        host,
        host_browser,
        colleague,
        colleague_browser,
        bystander_browser,
        disabled,
    }
}

/// Tomorrow's date as the booking form takes it.
fn tomorrow(app: &TestApp) -> String {
    let d = app.now() + haven_domain::time::Duration::days(1);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

impl Team {
    /// Posts the booking form as the host with these colleagues and kind.
    async fn book(&self, kind: &str, colleagues: &[&str]) -> common::Page {
        let date = tomorrow(&self.app);
        let form = self.host_browser.get("/consultations/new").await;
        let mut fields = vec![
            ("clinic", self.clinic.as_str()),
            ("clinician", ""),
            ("date", date.as_str()),
            ("time", "09:30"),
            ("kind", kind),
        ];
        fields.extend(colleagues.iter().map(|c| ("colleagues", *c)));
        self.host_browser
            .post_form_with(&form.csrf(), "/consultations/new", &fields)
            .await
    }
}

#[tokio::test]
async fn a_colleague_waits_until_the_host_admits_them_and_the_host_ends_it() {
    let t = team().await;
    let app = &t.app;
    let booked = t
        .book("colleague_meeting", &[t.colleague.id.as_str()])
        .await;
    assert_eq!(booked.status, 303, "{}", booked.body);
    let path = booked.location().expect("to the meeting").to_owned();
    let id = ConsultationId::parse(path.trim_start_matches("/consultations/")).unwrap();
    let c = app.store.consultation(&t.org, &id).await.unwrap();
    assert_eq!(
        c.clinician_id.as_ref(),
        Some(&t.host.id),
        "the booker hosts it"
    );
    let people = app.store.attendees(&t.org, &id).await.unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].role, AttendeeRole::Colleague);
    assert_eq!(people[0].user_id.as_ref(), Some(&t.colleague.id));
    assert_eq!(people[0].name.as_str(), "Colin Colleague");
    let book_audit = app.audit_of("consultation.book").await;
    assert!(
        book_audit[0].detail.contains("colleagues=1"),
        "{book_audit:?}"
    );
    let details = t.host_browser.get(&path).await;
    assert!(
        details.contains("Joins signed in to Haven"),
        "{}",
        details.body
    );
    assert!(!details.contains("Send the invitation again"));

    // The colleague finds it on their home page and opens its page; others cannot.
    let home = t.colleague_browser.get("/").await;
    let meeting = format!("/meetings/{id}");
    assert!(home.contains(&meeting), "{}", home.body);
    assert!(t.host_browser.get("/").await.contains("(you host it)"));
    assert!(!t.bystander_browser.get("/").await.contains(&meeting));
    let page = t.colleague_browser.get(&meeting).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Hana Host") && page.contains(&format!("data-consultation=\"{id}\"")));
    assert_eq!(t.bystander_browser.get(&meeting).await.status, 404);
    assert_eq!(
        t.host_browser.get(&meeting).await.status,
        404,
        "the host uses the consultation page"
    );

    // The colleague joins signed in and waits apart, seeing only themselves.
    let join = json!({"consultation": id.as_str()});
    let mut colleague = MediaClient::join_with(
        connect(&app.base, Some(&t.colleague_browser.session_cookie())).await,
        join.clone(),
    )
    .await;
    assert_eq!(colleague.welcome["host"], false);
    assert_eq!(
        colleague.welcome["participants"].as_array().unwrap().len(),
        1
    );
    assert_eq!(colleague.expect("stage").await["stage"], "waiting");
    assert_eq!(
        app.store.consultation(&t.org, &id).await.unwrap().status,
        Status::Waiting
    );

    // A clinician who is not listed, nor its host, is refused.
    let mut bystander = Client::open(&app.base, Some(&t.bystander_browser.session_cookie())).await;
    bystander
        .send(json!({"type": "join", "v": 1, "consultation": id.as_str()}))
        .await;
    assert_eq!(bystander.expect("error").await["code"], "unauthenticated");

    let mut host = MediaClient::join_with(
        connect(&app.base, Some(&t.host_browser.session_cookie())).await,
        join,
    )
    .await;
    assert_eq!(host.welcome["host"], true);
    let listed = host.welcome["participants"].as_array().unwrap().len();
    assert_eq!(listed, 1, "the waiting colleague is not in the call");

    // The host sees them waiting with a plain "Admit", and admits them.
    let details = t.host_browser.get(&path).await;
    assert!(
        details.contains("Admit Colin Colleague"),
        "{}",
        details.body
    );
    assert!(!details.contains("Check identity and admit"));
    let admit = format!("{path}/attendees/{}/admit", people[0].id);
    let done = t
        .host_browser
        .post_form_with(&details.csrf(), &admit, &[])
        .await;
    done.assert_redirect(&path);
    assert_eq!(colleague.expect("stage").await["stage"], "admitted");
    host.wait_for_media(&colleague.participant, 20, 10).await;
    colleague.wait_for_media(&host.participant, 20, 10).await;
    assert_eq!(
        app.store.consultation(&t.org, &id).await.unwrap().status,
        Status::InProgress
    );
    let admitted = app.audit_of("consultation.admit").await;
    assert_eq!(admitted.len(), 1);
    assert_eq!(admitted[0].actor, Actor::Staff(t.host.id.clone()));
    assert_eq!(
        admitted[0].detail,
        format!("attendee={} colleague=yes", people[0].id)
    );

    // The host ends it for everyone.
    host.send(json!({"type": "end"})).await;
    assert_eq!(
        colleague.expect("ended").await["reason"],
        "your consultation has ended"
    );
    colleague.expect_closed(Duration::from_secs(1)).await;
    host.expect_closed(Duration::from_secs(1)).await;
    assert_eq!(
        app.store.consultation(&t.org, &id).await.unwrap().status,
        Status::Ended
    );
    assert_eq!(app.audit_of("consultation.end").await.len(), 1);
    assert!(
        t.colleague_browser
            .get(&meeting)
            .await
            .contains("This meeting is over.")
    );
    let mut late = Client::open(&app.base, Some(&t.colleague_browser.session_cookie())).await;
    late.send(json!({"type": "join", "v": 1, "consultation": id.as_str()}))
        .await;
    assert_eq!(late.expect("error").await["code"], "room_ended");
}

#[tokio::test]
async fn colleagues_are_checked_when_booking_and_only_colleagues_skip_the_checklist() {
    let t = team().await;
    let app = &t.app;
    let cases: [(&str, Vec<&str>, &str); 5] = [
        (
            "one_to_one",
            vec![t.colleague.id.as_str()],
            "Colleagues can be chosen only for a colleague meeting",
        ),
        (
            "colleague_meeting",
            vec!["not-an-id"],
            "Choose colleagues from your organisation's active staff",
        ),
        (
            "colleague_meeting",
            vec![t.disabled.id.as_str()],
            "Choose colleagues from your organisation's active staff",
        ),
        (
            "colleague_meeting",
            vec![t.host.id.as_str()],
            "The host is already in the meeting",
        ),
        (
            "colleague_meeting",
            vec!["0123456789abcdef0123456789abcdef"],
            "Choose colleagues from your organisation's active staff",
        ),
    ];
    for (kind, colleagues, message) in cases {
        let page = t.book(kind, &colleagues).await;
        assert_eq!(page.status, 400, "{kind} {colleagues:?}");
        page.assert_field_error("colleagues", message);
    }
    assert!(
        app.audit_of("consultation.book").await.is_empty(),
        "nothing was booked"
    );

    // A colleague from another organisation is not staff of this one.
    let other = app.create_org("Hillside Health").await;
    let stranger = app
        .add_user(
            &other,
            "x@hillside.example.org",
            "Xan Stranger",
            &[Role::Clinician],
            PASSWORD,
        )
        .await;
    let page = t.book("colleague_meeting", &[stranger.id.as_str()]).await;
    page.assert_field_error(
        "colleagues",
        "Choose colleagues from your organisation's active staff",
    );

    // The same colleague twice is listed once.
    let twice = [t.colleague.id.as_str(), t.colleague.id.as_str()];
    let booked = t.book("colleague_meeting", &twice).await;
    assert_eq!(booked.status, 303, "{}", booked.body);
    let path = booked.location().unwrap().to_owned();
    let id = ConsultationId::parse(path.trim_start_matches("/consultations/")).unwrap();
    let people = app.store.attendees(&t.org, &id).await.unwrap();
    assert_eq!(people.len(), 1);

    // A colleague has no invitation to resend, and a patient's admission route cannot be
    // used to admit a colleague of another meeting.
    let details = t.host_browser.get(&path).await;
    let resend = format!("{path}/attendees/{}/resend", people[0].id);
    let refused = t
        .host_browser
        .post_form_with(&details.csrf(), &resend, &[])
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.contains("no invitation link"), "{}", refused.body);
    let other_meeting = t.book("colleague_meeting", &[]).await;
    let other_path = other_meeting.location().unwrap().to_owned();
    let wrong = format!("{other_path}/attendees/{}/admit", people[0].id);
    let refused = t
        .host_browser
        .post_form_with(&details.csrf(), &wrong, &[])
        .await;
    assert_eq!(refused.status, 404);
    assert!(app.audit_of("consultation.admit").await.is_empty());
}
