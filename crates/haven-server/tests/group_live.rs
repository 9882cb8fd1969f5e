//! Group consultations in the call: attendees see only the names shown to the group while
//! hosts see full names, the hosts' controls (mute, stop video, remove), each audited, and
//! admitting all who passed their checks (others one by one); the attendance register.

mod common;
mod group_support;
mod signal_support;

use group_support::{Group, PASSWORD};
use haven_domain::Role;
use serde_json::{Value, json};
use signal_support::{Client, Incoming};

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

    // Removed from the call itself (the tile's "Remove"): the same, and audited too.
    let mut host_seen = Vec::new();
    let cara = loop {
        let m = until(&mut l.host, "participants", &mut host_seen).await;
        let found = m["list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "Cara Lloyd")
            .cloned();
        if let Some(p) = found {
            break p["id"].as_str().unwrap().to_owned();
        }
    };
    l.host
        .send(json!({"type": "eject", "participant": cara}))
        .await;
    let mut seen = Vec::new();
    until(&mut l.sockets[2], "ejected", &mut seen).await;
    let link =
        l.g.app
            .browser()
            .get(&format!("/join/{}", l.people[2].1))
            .await;
    assert_eq!(link.status, 404, "removed in the call, her link dies too");
    let removals = l.g.app.audit_of("group.remove").await;
    assert_eq!(removals.len(), 2, "{removals:?}");

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
    // The one-to-one checklist (linked from the clinic's waiting room) sends hosts here.
    let one_to_one = format!("/consultations/{id}/attendees/{ben}/admit");
    let elsewhere = g.host_browser.get(&one_to_one).await;
    assert!(elsewhere.contains("Go to the group"), "{}", elsewhere.body);
    let fields = [
        ("identity_confirmed", "yes"),
        ("record_open", "yes"),
        ("private_space", "yes"),
        ("location", "Home"),
    ];
    let refused = g
        .host_browser
        .post_form_with(&home.csrf(), &one_to_one, &fields)
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
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
