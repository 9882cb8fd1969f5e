//! Group consultations before the call: booking limits and their field errors, and the
//! ground rules required and recorded with the name an attendee chooses.

mod common;
mod group_support;

use group_support::{Group, PASSWORD, person};
use haven_domain::Role;
use haven_domain::consultation::ConsentKind;
use haven_domain::group::MAX_ATTENDEES;

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

#[tokio::test]
async fn the_booking_form_adds_attendee_rows_without_script_and_refuses_a_31st() {
    let g = Group::start().await;
    let b = &g.host_browser;
    let form = b.get("/consultations/new").await;
    assert!(
        !form.contains("Attendee 1"),
        "no rows until a group is chosen"
    );
    let day = (g.app.now() + haven_domain::time::Duration::days(1))
        .date()
        .to_string();
    let clinic = g.clinic.as_str();
    let base = [
        ("clinic", clinic),
        ("date", day.as_str()),
        ("time", "10:00"),
        ("kind", "group"),
    ];
    let mut fields = base.to_vec();
    fields.push(("add_row", "yes"));
    let rows = b
        .post_form_with(&form.csrf(), "/consultations/new", &fields)
        .await;
    assert_eq!(rows.status, 200);
    assert!(rows.contains("Attendee 3") && !rows.contains("Attendee 4"));
    assert!(
        rows.contains(&format!("value=\"{day}\"")),
        "what was typed stays"
    );

    let count = (MAX_ATTENDEES + 1).to_string();
    let texts: Vec<(String, String, String)> = (0..=MAX_ATTENDEES)
        .map(|i| {
            (
                format!("attendees.{i}.name"),
                format!("attendees.{i}.email"),
                format!("Person Number{i}"),
            )
        })
        .collect();
    let emails: Vec<String> = (0..=MAX_ATTENDEES)
        .map(|i| format!("p{i}@example.org"))
        .collect();
    let dob_fields: Vec<String> = (0..=MAX_ATTENDEES)
        .map(|i| format!("attendees.{i}.date_of_birth"))
        .collect();
    let contact_fields: Vec<String> = (0..=MAX_ATTENDEES)
        .map(|i| format!("attendees.{i}.contact"))
        .collect();
    let mut fields = base.to_vec();
    fields.push(("rows", &count));
    for i in 0..=MAX_ATTENDEES {
        fields.push((&texts[i].0, &texts[i].2));
        fields.push((&texts[i].1, &emails[i]));
        fields.push((&dob_fields[i], "1980-01-01"));
        fields.push((&contact_fields[i], "email"));
    }
    let refused = b
        .post_form_with(&form.csrf(), "/consultations/new", &fields)
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.contains("A group may have at most 30 attendees; you added 31"),
        "{}",
        refused.body
    );

    let thirty = (MAX_ATTENDEES).to_string();
    fields.retain(|(k, _)| !k.starts_with(&format!("attendees.{MAX_ATTENDEES}.")) && *k != "rows");
    fields.push(("rows", &thirty));
    let booked = b
        .post_form_with(&form.csrf(), "/consultations/new", &fields)
        .await;
    assert_eq!(booked.status, 303, "{}", booked.body);
    let page = b.get(booked.location().unwrap()).await;
    assert!(page.contains("Group consultation") && page.contains("Person Number29"));
}
