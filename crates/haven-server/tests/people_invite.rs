//! Inviting more people during a consultation: a carer, an interpreter or a colleague,
//! by text message, email, a copied link or (for staff) their sign-in, with field errors
//! for bad input; each gives their own name, waits, and is admitted individually after the
//! checks their role calls for. A carer is admitted only with the patient's agreement,
//! which is kept as a consent with who confirmed it.

mod common;
mod people_support;
mod signal_support;

use haven_domain::Role;
use haven_domain::consultation::{AttendeeRole, ConsentKind, Contact};
use haven_store::outbox::Channel;
use people_support::{PASSWORD, consult};
use serde_json::json;
use signal_support::{Client, connect};

#[tokio::test]
async fn a_clinician_invites_people_by_each_channel_and_bad_input_gets_field_errors() {
    let c = consult().await;
    let app = &c.app;

    let bad = c
        .add(&[
            ("role", "patient"),
            ("name", "  "),
            ("mobile", "12345"),
            ("send", "pigeon"),
        ])
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    bad.assert_field_error(
        "role",
        "carer or family member, an interpreter, or a colleague",
    );
    assert!(bad.field_error("name").is_some(), "{}", bad.body);
    assert!(bad.field_error("mobile").is_some(), "{}", bad.body);
    bad.assert_field_error("send", "text message, email, or copy");
    let no_mobile = c
        .add(&[("role", "carer"), ("name", "Carol Carer"), ("send", "sms")])
        .await;
    assert_eq!(no_mobile.status, 400);
    no_mobile.assert_field_error("mobile", "Enter a UK mobile number");
    let no_email = c
        .add(&[
            ("role", "interpreter"),
            ("name", "Ines Interpreter"),
            ("send", "email"),
        ])
        .await;
    no_email.assert_field_error("email", "Enter an email address");
    assert_eq!(app.store.attendees(&c.org, &c.id).await.unwrap().len(), 1);

    let by_sms = c
        .add(&[
            ("role", "carer"),
            ("name", "Carol Carer"),
            ("mobile", "07700 900456"),
            ("send", "sms"),
        ])
        .await;
    by_sms.assert_redirect(&c.path(""));
    let by_email = c
        .add(&[
            ("role", "interpreter"),
            ("name", "Ines Interpreter"),
            ("email", "ines@example.org"),
            ("send", "email"),
        ])
        .await;
    by_email.assert_redirect(&c.path(""));
    let (outside, _) = c.add_by_copy("colleague", "Olu Outside").await;
    let colleague = app
        .add_user(
            &c.org,
            "col@example.org",
            "Cora Colleague",
            &[Role::Clinician],
            PASSWORD,
        )
        .await;
    let staff = c
        .add(&[("role", "colleague"), ("staff", colleague.id.as_str())])
        .await;
    staff.assert_redirect(&c.path(""));
    let again = c
        .add(&[("role", "colleague"), ("staff", colleague.id.as_str())])
        .await;
    again.assert_field_error("staff", "already invited");
    let host = c
        .add(&[("role", "colleague"), ("staff", c.doctor.as_str())])
        .await;
    host.assert_field_error("staff", "already hosting");

    let people = app.store.attendees(&c.org, &c.id).await.unwrap();
    let find = |name: &str| people.iter().find(|a| a.name.as_str() == name).unwrap();
    let carer = find("Carol Carer");
    assert_eq!(
        (carer.role, carer.contact),
        (AttendeeRole::Carer, Contact::Sms)
    );
    let interpreter = find("Ines Interpreter");
    assert_eq!(interpreter.contact, Contact::Email);
    let cora = find("Cora Colleague");
    assert_eq!(cora.user_id.as_ref(), Some(&colleague.id));
    // The outbox sends the carer's and the interpreter's links; nobody else's.
    let messages = app
        .store
        .messages_for_consultation(&c.org, &c.id)
        .await
        .unwrap();
    let mut sent_to: Vec<_> = messages.iter().map(|m| m.attendee_id.clone()).collect();
    sent_to.sort();
    let mut want = vec![carer.id.clone(), interpreter.id.clone()];
    want.sort();
    assert_eq!(sent_to, want);
    assert!(messages.iter().all(|m| m.channel == Channel::Console));
    assert!(!messages.iter().any(|m| m.attendee_id == outside));

    let audit = app.audit_of("consultation.add_person").await;
    let details: Vec<&str> = audit.iter().map(|a| a.detail.as_str()).collect();
    assert_eq!(details.len(), 4, "{details:?}");
    for (d, how) in details
        .iter()
        .zip(["link=sms", "link=email", "link=copy", "link=sign_in"])
    {
        assert!(d.contains(how), "{d}");
        assert!(
            !d.contains("Carol") && !d.contains("07700") && !d.contains("example.org"),
            "{d}"
        );
    }
    let page = c.clinician.get(&c.path("")).await;
    assert!(
        page.contains("Invite a carer, interpreter or colleague"),
        "{}",
        page.body
    );

    // A receptionist cannot invite people into a call.
    let desk = app.browser();
    let rec = app
        .add_user(
            &c.org,
            "rec@example.org",
            "Rae Reception",
            &[Role::Receptionist],
            PASSWORD,
        )
        .await;
    app.sign_in(&desk, &rec.email, &rec.password).await;
    assert_eq!(desk.get(&c.path("/people/new")).await.status, 403);
}

#[tokio::test]
async fn a_carer_waits_and_is_admitted_only_with_the_patients_agreement_which_is_recorded() {
    let c = consult().await;
    let app = &c.app;
    let (carer, token) = c.add_by_copy("carer", "Carol Carer").await;
    c.give_name(&token, "Carol M Carer").await;
    let mut socket = Client {
        socket: connect(&app.base, None).await,
    };
    let welcome = socket.join_with(&json!({"invite": token})).await;
    assert_eq!(welcome["host"], false);
    assert_eq!(socket.expect("stage").await["stage"], "waiting");

    let admit_page = c
        .clinician
        .get(&c.path(&format!("/attendees/{carer}/admit")))
        .await;
    assert!(
        admit_page.contains("Carol M Carer"),
        "the name they gave is shown"
    );
    assert!(
        admit_page.contains("agree to Carol Carer being present"),
        "{}",
        admit_page.body
    );
    assert!(
        !admit_page.contains("record_open"),
        "the booking comparison is for the patient"
    );

    let refused = c.admit(&carer, &["identity_confirmed"]).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let why = refused
        .field_error("patient_agrees")
        .expect("a field error");
    assert!(
        why.contains("not admitted without the patient's agreement"),
        "{why}"
    );
    assert!(app.store.consents(&c.org, &c.id).await.unwrap().is_empty());
    assert!(app.store.stays(&c.org, &c.id).await.unwrap().is_empty());

    let done = c
        .admit(&carer, &["identity_confirmed", "patient_agrees"])
        .await;
    done.assert_redirect(&c.path("/call"));
    assert_eq!(socket.expect("stage").await["stage"], "admitted");
    let consents = app.store.consents(&c.org, &c.id).await.unwrap();
    assert_eq!(consents.len(), 1);
    let consent = &consents[0];
    assert_eq!(consent.kind, ConsentKind::CarerPresence);
    assert_eq!(consent.attendee, c.patient, "the patient's agreement");
    assert_eq!(consent.about.as_ref(), Some(&carer));
    assert_eq!(consent.confirmed_by.as_ref(), Some(&c.doctor));
    let stays = app.store.stays(&c.org, &c.id).await.unwrap();
    assert_eq!(stays.len(), 1);
    assert_eq!((&stays[0].attendee, stays[0].left_at), (&carer, None));
    let audit = app.audit_of("consultation.admit").await;
    assert!(
        audit[0].detail.contains("role=carer") && audit[0].detail.contains("patient_agrees=yes")
    );

    // The register on the consultation's page shows the role and the times.
    let page = c.clinician.get(&c.path("")).await;
    assert!(page.contains("Attendance register"), "{}", page.body);
    assert!(page.contains("Carer or family member") && page.contains("Still in the call"));
}

#[tokio::test]
async fn an_interpreter_confirms_a_private_space_and_a_staff_colleague_joins_signed_in() {
    let c = consult().await;
    let app = &c.app;
    let (interpreter, token) = c.add_by_copy("interpreter", "Ines Interpreter").await;
    c.give_name(&token, "Ines Interpreter").await;
    let mut ines = Client {
        socket: connect(&app.base, None).await,
    };
    ines.join_with(&json!({"invite": token})).await;
    assert_eq!(ines.expect("stage").await["stage"], "waiting");
    let partial = c.admit(&interpreter, &["identity_confirmed"]).await;
    assert_eq!(partial.status, 400);
    assert!(
        partial.field_error("private_space").is_some(),
        "{}",
        partial.body
    );
    assert!(partial.field_error("patient_agrees").is_none());
    c.admit(&interpreter, &["identity_confirmed", "private_space"])
        .await
        .assert_redirect(&c.path("/call"));
    assert_eq!(ines.expect("stage").await["stage"], "admitted");
    assert!(app.store.consents(&c.org, &c.id).await.unwrap().is_empty());

    // A staff colleague joins with their session and waits like anyone else.
    let colleague = app
        .add_user(
            &c.org,
            "col@example.org",
            "Cora Colleague",
            &[Role::Clinician],
            PASSWORD,
        )
        .await;
    c.add(&[("role", "colleague"), ("staff", colleague.id.as_str())])
        .await;
    let cora_browser = app.browser();
    app.sign_in(&cora_browser, &colleague.email, &colleague.password)
        .await;
    let mut cora = Client {
        socket: connect(&app.base, Some(&cora_browser.session_cookie())).await,
    };
    let welcome = cora
        .join_with(&json!({"consultation": c.id.as_str()}))
        .await;
    assert_eq!(welcome["host"], false, "an invited colleague is not a host");
    assert_eq!(cora.expect("stage").await["stage"], "waiting");
    let cora_id = app
        .store
        .attendee_of_user(&c.org, &c.id, &colleague.id)
        .await
        .unwrap()
        .unwrap()
        .id;
    c.admit(&cora_id, &[]).await.assert_redirect(&c.path(""));
    assert_eq!(cora.expect("stage").await["stage"], "admitted");
    assert_eq!(app.store.stays(&c.org, &c.id).await.unwrap().len(), 2);
}
