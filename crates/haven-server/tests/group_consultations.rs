//! Group consultations: booking limits and their field errors, the ground rules required
//! and recorded, names (attendees see only the names shown to the group, hosts see full
//! names), the hosts' controls (mute, stop video, remove) and admitting all who passed.

mod common;
mod group_support;
mod signal_support;

use group_support::{Group, PASSWORD, person};
use haven_domain::Role;
use haven_domain::consultation::ConsentKind;
use haven_domain::group::MAX_ATTENDEES;
use serde_json::{Value, json};
use signal_support::{Client, Incoming};

fn field_errors(e: haven_server::Error) -> Vec<(String, String)> {
    match e {
        haven_server::Error::Invalid(fields) => fields
            .iter()
            .map(|(f, m)| (f.to_owned(), m.to_owned()))
            .collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

fn has(errors: &[(String, String)], field: &str, words: &str) -> bool {
    errors.iter().any(|(f, m)| f == field && m.contains(words))
}

#[tokio::test]
async fn booking_takes_thirty_attendees_and_refuses_a_31st_duplicates_and_children() {
    let g = Group::start().await;
    let emails: Vec<String> = (0..=MAX_ATTENDEES)
        .map(|i| format!("p{i}@example.org"))
        .collect();
    let names: Vec<String> = (0..=MAX_ATTENDEES)
        .map(|i| format!("Person Number{i}"))
        .collect();
    let rows: Vec<_> = (0..=MAX_ATTENDEES)
        .map(|i| person(&names[i], "1980-01-01", &emails[i]))
        .collect();

    let errors = field_errors(g.try_book(&rows, &[]).await.unwrap_err());
    assert!(has(&errors, "attendees", "at most 30"), "{errors:?}");

    let thirty = g.try_book(&rows[..MAX_ATTENDEES], &[]).await.unwrap();
    assert_eq!(thirty.group.len(), MAX_ATTENDEES);
    assert_eq!(
        thirty.links.len(),
        MAX_ATTENDEES,
        "each attendee has their own link"
    );
    assert!(thirty.patient.is_none());
    let hosts = g.app.store.hosts(&g.org, &thirty.id).await.unwrap();
    assert_eq!(
        hosts,
        vec![g.host.id.clone()],
        "the booking clinician hosts"
    );

    let twice = [
        person("Aisha Khan", "1990-02-03", "same@example.org"),
        person("Ben Jones", "1985-06-07", "same@example.org"),
    ];
    let errors = field_errors(g.try_book(&twice, &[]).await.unwrap_err());
    assert!(
        has(&errors, "attendees.1.email", "already given"),
        "{errors:?}"
    );

    let child = [person("Dan Young", "2015-01-01", "dan@example.org")];
    let errors = field_errors(g.try_book(&child, &[]).await.unwrap_err());
    assert!(
        has(&errors, "attendees.0.date_of_birth", "16 or over"),
        "{errors:?}"
    );

    let errors = field_errors(g.try_book(&[], &[]).await.unwrap_err());
    assert!(has(&errors, "attendees", "at least one"), "{errors:?}");

    let bad = [person("", "31/02/1990", "not-an-email")];
    let errors = field_errors(g.try_book(&bad, &[]).await.unwrap_err());
    for f in [
        "attendees.0.name",
        "attendees.0.date_of_birth",
        "attendees.0.email",
    ] {
        assert!(
            errors.iter().any(|(k, _)| k == f),
            "{f} missing from {errors:?}"
        );
    }

    // A co-host must be a clinician of the clinic.
    let outsider = g
        .app
        .add_user(
            &g.org,
            "desk@example.org",
            "Desk Person",
            &[Role::Receptionist],
            PASSWORD,
        )
        .await;
    let one = [person("Aisha Khan", "1990-02-03", "aisha@example.org")];
    let errors = field_errors(g.try_book(&one, &[outsider.id.as_str()]).await.unwrap_err());
    assert!(has(&errors, "cohosts", "clinic's clinicians"), "{errors:?}");
    let cohost = g
        .app
        .add_user(
            &g.org,
            "nurse@example.org",
            "Nora Nurse",
            &[Role::Clinician],
            PASSWORD,
        )
        .await;
    haven_server::ops::orgs::set_membership(
        &g.app.state,
        &g.app.system(),
        &g.org,
        &g.clinic,
        &cohost.id,
        true,
    )
    .await
    .unwrap();
    let booked = g.try_book(&one, &[cohost.id.as_str()]).await.unwrap();
    let hosts = g.app.store.hosts(&g.org, &booked.id).await.unwrap();
    assert_eq!(hosts, vec![g.host.id.clone(), cohost.id.clone()]);
}

#[tokio::test]
async fn the_ground_rules_must_be_accepted_before_going_on_and_are_recorded() {
    let g = Group::start().await;
    let (id, people) = g.book_three().await;
    let (aisha, token) = &people[0];
    let browser = g.app.browser();
    let path = format!("/join/{token}");
    let page = browser.get(&path).await;
    assert!(page.contains("Do not record the session"), "{}", page.body);
    assert!(page.contains("Ground rules"));

    let details = [
        ("name", "Aisha Khan"),
        ("date_of_birth-day", "3"),
        ("date_of_birth-month", "2"),
        ("date_of_birth-year", "1990"),
    ];
    let refused = browser.post_form_with(&page.csrf(), &path, &details).await;
    assert_eq!(refused.status, 400);
    refused.assert_field_error("ground_rules", "accept the ground rules");
    assert!(g.app.store.consents(&g.org, &id).await.unwrap().is_empty());
    // The check page and the waiting room are out of reach until then.
    let check = browser.get(&format!("/join/{token}/check")).await;
    check.assert_redirect(&path);

    let long = "x".repeat(31);
    let mut fields = details.to_vec();
    fields.extend([("ground_rules", "yes"), ("shown_name", long.as_str())]);
    let refused = browser.post_form_with(&page.csrf(), &path, &fields).await;
    assert_eq!(refused.status, 400);
    refused.assert_field_error("shown_name", "between 1 and 30");

    let mut fields = details.to_vec();
    fields.extend([("ground_rules", "yes"), ("shown_name", "  Ash ")]);
    let done = browser.post_form_with(&page.csrf(), &path, &fields).await;
    done.assert_redirect(&format!("/join/{token}/check"));
    // Correcting the details later does not record the agreement twice.
    browser.post_form_with(&page.csrf(), &path, &fields).await;

    let consents = g.app.store.consents(&g.org, &id).await.unwrap();
    assert_eq!(consents.len(), 1, "{consents:?}");
    assert_eq!(consents[0].attendee, *aisha);
    assert_eq!(consents[0].kind, ConsentKind::GroundRules);
    assert_eq!(consents[0].confirmed_by, None, "she gave it herself");
    let me = g
        .app
        .store
        .group_attendee(&g.org, aisha)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(me.shown_name().as_str(), "Ash");
}

/// Every message a socket receives until one of type `ty`, as text.
async fn until(client: &mut Client, ty: &str, seen: &mut Vec<String>) -> Value {
    loop {
        match client.recv().await {
            Incoming::Msg(m) => {
                seen.push(m.to_string());
                if m["type"] == ty {
                    return m;
                }
            }
            Incoming::Closed(frame) => panic!("closed while waiting for {ty}: {frame:?}"),
        }
    }
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap_or("").to_owned())
        .collect();
    names.sort();
    names
}

struct Live {
    g: Group,
    id: haven_domain::ConsultationId,
    people: Vec<(haven_domain::AttendeeId, String)>,
    sockets: Vec<Client>,
    seen: Vec<Vec<String>>,
    host: Client,
}

/// The three attendees joined (Ben chose "Bee") and wait on their sockets; the host is in
/// the call.
async fn waiting_three() -> Live {
    let g = Group::start().await;
    let (id, people) = g.book_three().await;
    let births = [("3", "2", "1990"), ("7", "6", "1985"), ("12", "11", "1979")];
    let full = ["Aisha Khan", "Ben Jones", "Cara Lloyd"];
    let shown = ["", "Bee", ""];
    let mut sockets = Vec::new();
    let mut seen = Vec::new();
    for i in 0..3 {
        let page = g.join(&people[i].1, full[i], births[i], shown[i]).await;
        page.assert_redirect(&format!("/join/{}/check", people[i].1));
        let mut socket = Client::open(&g.app.base, None).await;
        let mut mine = Vec::new();
        socket
            .send(json!({"type": "join", "v": 1, "invite": people[i].1}))
            .await;
        until(&mut socket, "stage", &mut mine).await;
        sockets.push(socket);
        seen.push(mine);
    }
    let cookie = g.host_browser.session_cookie();
    let mut host = Client::open(&g.app.base, Some(&cookie)).await;
    host.join_with(&json!({"consultation": id.as_str()})).await;
    Live {
        g,
        id,
        people,
        sockets,
        seen,
        host,
    }
}

impl Live {
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> common::Page {
        let page = self
            .g
            .host_browser
            .get(&format!("/consultations/{}", self.id))
            .await;
        self.g
            .host_browser
            .post_form_with(&page.csrf(), path, fields)
            .await
    }

    async fn admit_all(&mut self) {
        let done = self
            .post(&format!("/consultations/{}/group/admit-all", self.id), &[])
            .await;
        done.assert_redirect(&format!("/consultations/{}", self.id));
    }
}

#[tokio::test]
async fn attendees_see_only_shown_names_and_hosts_see_full_names() {
    let mut l = waiting_three().await;
    let page =
        l.g.host_browser
            .get(&format!("/consultations/{}", l.id))
            .await;
    assert!(
        page.contains("Admit all who have passed their checks (3 waiting)"),
        "{}",
        page.body
    );
    assert!(page.contains("Aisha Khan") && page.contains("1990-02-03"));
    l.admit_all().await;

    for i in 0..3 {
        let mut seen = std::mem::take(&mut l.seen[i]);
        loop {
            let m = until(&mut l.sockets[i], "participants", &mut seen).await;
            if m["list"].as_array().unwrap().len() == 4 {
                assert_eq!(names(&m["list"]), ["Aisha", "Bee", "Cara", "Mina Midwife"]);
                break;
            }
        }
        l.seen[i] = seen;
    }
    let mut host_seen = Vec::new();
    loop {
        let m = until(&mut l.host, "participants", &mut host_seen).await;
        if m["list"].as_array().unwrap().len() == 4 {
            assert_eq!(
                names(&m["list"]),
                ["Aisha Khan", "Ben Jones", "Cara Lloyd", "Mina Midwife"]
            );
            break;
        }
    }
    // A host mutes Cara: everyone is told, and still no surname goes to an attendee.
    let cara = l.people[2].0.clone();
    l.post(&format!("/consultations/{}/group/{cara}/mute", l.id), &[])
        .await;
    let mut seen = std::mem::take(&mut l.seen[2]);
    until(&mut l.sockets[2], "notice", &mut seen).await;
    l.seen[2] = seen;
    for (i, seen) in l.seen.iter().enumerate() {
        for text in seen {
            for surname in ["Khan", "Jones", "Lloyd"] {
                assert!(
                    !text.contains(surname),
                    "attendee {i} received {surname}: {text}"
                );
            }
        }
    }
    let stays = l.g.app.store.stays(&l.g.org, &l.id).await.unwrap();
    assert_eq!(
        stays.len(),
        3,
        "each admission starts a stay in the register"
    );
}

#[tokio::test]
async fn hosts_mute_stop_video_and_remove_and_each_is_audited() {
    let mut l = waiting_three().await;
    l.admit_all().await;
    let (ben, ben_token) = l.people[1].clone();
    let mut seen = Vec::new();
    until(&mut l.sockets[1], "stage", &mut seen).await;

    l.post(&format!("/consultations/{}/group/{ben}/mute", l.id), &[])
        .await;
    let muted = until(&mut l.sockets[1], "mute", &mut seen).await;
    assert_eq!(
        (muted["kind"].as_str(), muted["muted"].as_bool()),
        (Some("audio"), Some(true))
    );
    assert!(
        until(&mut l.sockets[1], "notice", &mut seen).await["text"]
            .as_str()
            .unwrap()
            .contains("muted your microphone")
    );

    l.post(
        &format!("/consultations/{}/group/{ben}/stop-video", l.id),
        &[],
    )
    .await;
    until(&mut l.sockets[1], "notice", &mut seen).await;
    // He cannot turn it back on himself; once a host allows it, he can.
    l.sockets[1]
        .send(json!({"type": "mute", "kind": "video", "muted": false}))
        .await;
    let refused = until(&mut l.sockets[1], "error", &mut seen).await;
    assert!(
        refused["message"].as_str().unwrap().contains("only a host"),
        "{refused}"
    );
    l.post(
        &format!("/consultations/{}/group/{ben}/allow-video", l.id),
        &[],
    )
    .await;
    until(&mut l.sockets[1], "notice", &mut seen).await;

    l.post(&format!("/consultations/{}/group/{ben}/remove", l.id), &[])
        .await;
    let ejected = until(&mut l.sockets[1], "ejected", &mut seen).await;
    assert!(ejected["reason"].as_str().unwrap().contains("removed"));
    let link = l.g.app.browser().get(&format!("/join/{ben_token}")).await;
    assert_eq!(
        link.status, 404,
        "a removed attendee's link stops working at once"
    );
    let again = Client::open(&l.g.app.base, None).await;
    let mut again = again;
    again
        .send(json!({"type": "join", "v": 1, "invite": ben_token}))
        .await;
    match again.recv().await {
        Incoming::Msg(m) => assert_eq!(m["type"], "error", "{m}"),
        Incoming::Closed(_) => {}
    }

    for action in [
        "group.admit",
        "group.mute",
        "group.stop_video",
        "group.allow_video",
        "group.remove",
    ] {
        let entries = l.g.app.audit_of(action).await;
        assert!(!entries.is_empty(), "{action} is audited");
    }
    let stays = l.g.app.store.stays(&l.g.org, &l.id).await.unwrap();
    let his = stays.iter().find(|s| s.attendee == ben).unwrap();
    assert!(his.left_at.is_some(), "his stay ends when he is removed");
}

#[tokio::test]
async fn admit_all_takes_only_those_who_passed_and_others_come_in_one_by_one() {
    let g = Group::start().await;
    let (id, people) = g.book_three().await;
    // Aisha types the booked details; Ben a different date of birth.
    g.join(&people[0].1, "aisha khan", ("3", "2", "1990"), "")
        .await;
    g.join(&people[1].1, "Ben Jones", ("8", "6", "1985"), "")
        .await;
    let mut sockets = Vec::new();
    for (_, token) in &people[..2] {
        let mut s = Client::open(&g.app.base, None).await;
        s.join_with(&json!({"invite": token})).await;
        s.expect("stage").await;
        sockets.push(s);
    }
    let home = g.host_browser.get(&format!("/consultations/{id}")).await;
    assert!(home.contains("Not passed: check with them"));
    let done = g
        .host_browser
        .post_form_with(
            &home.csrf(),
            &format!("/consultations/{id}/group/admit-all"),
            &[],
        )
        .await;
    done.assert_redirect(&format!("/consultations/{id}"));
    assert_eq!(sockets[0].expect("stage").await["stage"], "admitted");
    let stays = g.app.store.stays(&g.org, &id).await.unwrap();
    assert_eq!(stays.len(), 1);
    assert_eq!(stays[0].attendee, people[0].0);

    let ben = &people[1].0;
    let admit = format!("/consultations/{id}/group/{ben}/admit");
    let refused = g
        .host_browser
        .post_form_with(&home.csrf(), &admit, &[])
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let done = g
        .host_browser
        .post_form_with(&home.csrf(), &admit, &[("identity_confirmed", "yes")])
        .await;
    done.assert_redirect(&format!("/consultations/{id}"));
    assert_eq!(sockets[1].expect("stage").await["stage"], "admitted");
    let page = g.host_browser.get(&format!("/consultations/{id}")).await;
    assert!(
        page.contains(" to now"),
        "the register shows who is in: {}",
        page.body
    );

    // Another clinician of the organisation, not a host, may not run the group.
    let other = g
        .app
        .add_user(
            &g.org,
            "gp@example.org",
            "Gus Practitioner",
            &[Role::Clinician],
            PASSWORD,
        )
        .await;
    let browser = g.app.browser();
    g.app
        .sign_in(&browser, &other.email, &other.password)
        .await
        .assert_home();
    let page = browser.get(&format!("/consultations/{id}")).await;
    assert!(!page.contains("Admit all"), "only hosts get the controls");
    let refused = browser
        .post_form_with(
            &page.csrf(),
            &format!("/consultations/{id}/group/admit-all"),
            &[],
        )
        .await;
    assert_eq!(refused.status, 403);
}
