//! A group consultation's record: each attendee's bundle, built from what was recorded in
//! the call (agreements, the attendance register, the chat kept), holds their own part
//! and nothing about any other attendee: not their name, their presence, their agreements
//! or what they wrote.

mod common;
mod record_support;

use common::booking::Appointment;
use haven_domain::consultation::{AttendeeRole, ConsentKind, Contact, Event};
use haven_domain::time::Duration;
use haven_domain::{AttendeeId, PersonName};
use haven_server::ops::booking::Birth;
use haven_server::ops::group::{GroupInput, GroupPersonInput};
use haven_store::consultations::NewAttendee;
use haven_store::record::{ChatLine, Consent};
use record_support::consultation;
use serde_json::Value;

#[tokio::test]
async fn each_group_attendees_bundle_holds_only_their_own_part() {
    let c = consultation(false).await;
    let app = &c.app;
    let day = (app.now() + Duration::hours(1)).date();
    let clinician = c.doctor.id.as_str().to_owned();
    let rows = [GroupPersonInput {
        name: "Gwen Groupmember",
        birth: Birth::Iso("1984-03-27"),
        nhs_number: "",
        mobile: "",
        email: "gwen@example.org",
        contact: "email",
    }];
    let mut a = Appointment::new(&c.clinic, day, "23:59");
    a.kind = "group";
    a.clinician = &clinician;
    a.mobile = "";
    a.group = GroupInput {
        attendees: &rows,
        cohosts: &[],
    };
    let booked = app.book(&c.org, &a).await;
    let (org, id) = (&c.org, &booked.id);
    let first = app.store.attendees(org, id).await.unwrap()[0].id.clone();
    let t0 = app.now();

    let mut tx = app.store.begin().await.unwrap();
    let mut add = Vec::new();
    for (n, role, name) in [
        (1u8, AttendeeRole::Patient, "Olive Otherperson"),
        (2, AttendeeRole::Carer, "Oscar Othercarer"),
    ] {
        let aid = AttendeeId::from_random([n; 16]);
        let name = PersonName::parse(name).unwrap();
        let new = NewAttendee {
            id: &aid,
            role,
            name: &name,
            mobile: None,
            email: None,
            contact: Contact::Email,
            user_id: None,
        };
        tx.add_attendee(org, id, &new, t0).await.unwrap();
        add.push(aid);
    }
    let (second, second_carer) = (add[0].clone(), add[1].clone());
    for e in [Event::Arrive, Event::Admit] {
        tx.transition(org, id, e, t0).await.unwrap();
    }
    for (who, about) in [
        (&first, None),
        (&second, None),
        (&second, Some(second_carer.clone())),
    ] {
        let kind = if about.is_some() {
            ConsentKind::CarerPresence
        } else {
            ConsentKind::GroundRules
        };
        let consent = Consent {
            consultation: id.clone(),
            attendee: who.clone(),
            kind,
            about,
            confirmed_by: Some(c.doctor.id.clone()),
            given_at: t0,
        };
        tx.record_consent(org, &consent).await.unwrap();
    }
    for who in [&first, &second, &second_carer] {
        tx.stay_begins(org, id, who, t0).await.unwrap();
    }
    tx.stay_ends(org, &first, t0 + Duration::minutes(20))
        .await
        .unwrap();
    tx.stay_begins(org, id, &first, t0 + Duration::minutes(25))
        .await
        .unwrap();
    let line = |seq: i64, a: &AttendeeId, name: &str, body: &str| ChatLine {
        seq,
        sender_attendee: Some(a.clone()),
        sender_user: None,
        sender_name: name.into(),
        sent_at: t0 + Duration::minutes(seq),
        body: body.into(),
    };
    tx.save_chat(
        org,
        id,
        &[
            line(0, &first, "Gwen", "My question"),
            line(1, &second, "Olive", "Olive's knee"),
        ],
    )
    .await
    .unwrap();
    tx.stays_end_all(org, id, t0 + Duration::minutes(40))
        .await
        .unwrap();
    tx.transition(org, id, Event::End, t0 + Duration::minutes(40))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let path = format!("/consultations/{id}/notes/finish");
    c.clinician
        .post_form(
            &path,
            &[
                ("outcome", "completed"),
                ("notes", "Group session on exercises"),
            ],
        )
        .await;
    let get = |who: &AttendeeId| {
        let path = format!("/consultations/{id}/record/{who}");
        let browser = &c.clinician;
        async move {
            let page = browser.get(&path).await;
            assert_eq!(page.status, reqwest::StatusCode::OK, "{}", page.body);
            serde_json::from_str::<Value>(&page.body).unwrap()
        }
    };
    let mine = get(&first).await;
    let text = mine.to_string();
    for absent in [
        "Olive",
        "Otherperson",
        "Oscar",
        "Othercarer",
        "knee",
        second.as_str(),
        second_carer.as_str(),
    ] {
        assert!(
            !text.contains(absent),
            "{absent} is in the first attendee's bundle"
        );
    }
    assert!(text.contains("Gwen Groupmember") && text.contains("My question"));
    assert!(text.contains("1323941000000101"));
    let kinds: Vec<&str> = mine["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "Consent").count(),
        1,
        "ground rules only: {kinds:?}"
    );
    assert!(!kinds.contains(&"RelatedPerson"), "{kinds:?}");
    let register = text.matches("In the group from").count();
    assert_eq!(register, 2, "their two stays");

    let theirs = get(&second).await.to_string();
    for absent in ["Gwen", "Groupmember", "My question", first.as_str()] {
        assert!(
            !theirs.contains(absent),
            "{absent} is in the second attendee's bundle"
        );
    }
    assert!(theirs.contains("Oscar Othercarer") && theirs.contains("Olive's knee"));
    // The booking's name is the first attendee's; the second's own name is used for them.
    assert!(theirs.contains("Olive Otherperson"));
    // Carers get no bundle of their own.
    let carer = format!("/consultations/{id}/record/{second_carer}");
    assert_eq!(
        c.clinician.get(&carer).await.status,
        reqwest::StatusCode::NOT_FOUND
    );
}
