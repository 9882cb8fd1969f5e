//! `haven governance report|counts` and `haven admin retention run`, run as a person would,
//! and `haven audit verify` after retention removed the oldest entries.

use haven_domain::audit::Actor;
use haven_domain::consultation::{AttendeeRole, Contact, Event, JourneyStep, Kind};
use haven_domain::time::{Duration, OffsetDateTime};
use haven_domain::{AttendeeId, ClinicId, ConsultationId, OrgId, OrgName, PersonName};
use haven_store::Store;
use haven_store::audit::NewAudit;
use haven_store::consultations::{NewAttendee, NewConsultation};

use crate::audit::{drop_triggers, expect_broken_at, raw, verify};
use crate::support::Setup;

fn id<T>(make: fn([u8; 16]) -> T) -> T {
    make(rand_bytes())
}

/// Distinct ids without a random number generator: the time and a counter.
fn rand_bytes() -> [u8; 16] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&t.to_be_bytes());
    b[8..].copy_from_slice(&n.to_be_bytes());
    b
}

async fn org_id(store: &Store, name: &str) -> OrgId {
    store
        .org_by_name(&OrgName::parse(name).unwrap())
        .await
        .unwrap()
        .expect("the organisation exists")
        .id
}

/// A one-to-one consultation with its patient, taken through `events` at `at`.
async fn consultation(
    store: &Store,
    org: &OrgId,
    clinic: &ClinicId,
    events: &[Event],
    at: OffsetDateTime,
) -> (ConsultationId, AttendeeId) {
    let c = id(ConsultationId::from_random);
    let a = id(AttendeeId::from_random);
    let mut tx = store.begin().await.unwrap();
    tx.create_consultation(
        &NewConsultation {
            id: &c,
            org_id: org,
            clinic_id: clinic,
            clinician_id: None,
            kind: Kind::OneToOne,
            starts_at: at,
            patient: None,
        },
        at,
    )
    .await
    .unwrap();
    tx.add_attendee(
        org,
        &c,
        &NewAttendee {
            id: &a,
            role: AttendeeRole::Patient,
            name: &PersonName::parse("Sam Patient").unwrap(),
            mobile: None,
            email: None,
            contact: Contact::Email,
            user_id: None,
        },
        at,
    )
    .await
    .unwrap();
    for e in events {
        tx.transition(org, &c, *e, at).await.unwrap();
    }
    tx.commit().await.unwrap();
    (c, a)
}

fn clinic_of(setup: &Setup, org: &str) -> ClinicId {
    let out = setup.run(&[
        "admin", "clinic", "create", "--org", org, "--name", "Physio",
    ]);
    ClinicId::parse(out.expect_code(0).stdout.trim()).unwrap()
}

#[tokio::test]
async fn the_report_states_each_point_with_its_evidence_and_source() {
    let setup = Setup::new().await;
    setup.create_org("Riverside");
    setup
        .add_user("Riverside", "a@example.org", "Ann Example", "admin")
        .expect_code(0);
    let store = setup.store().await;
    let org = org_id(&store, "Riverside").await;
    let clinic = clinic_of(&setup, "Riverside");
    let at = OffsetDateTime::from_unix_timestamp(1794304800).unwrap();
    consultation(
        &store,
        &org,
        &clinic,
        &[Event::Arrive, Event::Admit, Event::End],
        at,
    )
    .await;

    let out = setup.run(&[
        "governance",
        "report",
        "--org",
        "Riverside",
        "--month",
        "2026-11",
    ]);
    let text = &out.expect_code(0).stdout;
    assert!(
        text.starts_with("Governance report: Riverside, November 2026"),
        "{text}"
    );
    assert!(
        text.contains("[enforced] Record only with explicit consent"),
        "{text}"
    );
    // Admitted here without the admission's checklist entry: the report does not hide it.
    assert!(
        text.contains("Identity checklist confirmed in 0 of 1 consultation held in November 2026."),
        "{text}"
    );
    assert!(
        text.contains("[supported] Verify the patient's identity")
            || text.contains("[supported] Implied consent"),
        "{text}"
    );
    assert!(text.contains("[enforced] Two-step sign-in"), "{text}");
    assert!(
        text.contains("0 of 1 active member of staff enrolled an authenticator app."),
        "{text}"
    );
    assert!(text.contains("Source: Using Video Conferencing for Patient/Service User Consultations, \"Records management considerations\""), "{text}");

    let out = setup.run(&[
        "governance",
        "report",
        "--org",
        "Riverside",
        "--month",
        "2026-11",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out.expect_code(0).stdout).unwrap();
    assert_eq!(json["month"], "2026-11");
    let points = json["points"].as_array().unwrap();
    assert_eq!(points.len(), 11);
    let status = |p: &str| {
        points.iter().find(|x| x["point"] == p).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status("identity_verification"), "supported");
    assert_eq!(status("recording_consent"), "enforced");
    assert_eq!(status("updates"), "supported");

    setup
        .run(&[
            "governance",
            "report",
            "--org",
            "Riverside",
            "--month",
            "2026-13",
        ])
        .expect_refusal(2, &["--month: month must be written YYYY-MM"]);
    setup
        .run(&["governance", "report", "--org", "Nowhere"])
        .expect_refusal(1, &["no organisation is called"]);
}

#[tokio::test]
async fn counts_are_csv_by_organisation_and_month_with_zeros_and_no_identifiers() {
    let setup = Setup::new().await;
    setup.create_org("Riverside");
    setup.create_org("=Hill, Trust");
    let store = setup.store().await;
    let org = org_id(&store, "Riverside").await;
    let clinic = clinic_of(&setup, "Riverside");
    let aug = OffsetDateTime::from_unix_timestamp(1786356000).unwrap();
    for _ in 0..2 {
        consultation(
            &store,
            &org,
            &clinic,
            &[Event::Arrive, Event::Admit, Event::End],
            aug,
        )
        .await;
    }
    consultation(&store, &org, &clinic, &[Event::Arrive, Event::End], aug).await;

    let out = setup.run(&[
        "governance",
        "counts",
        "--from",
        "2026-07",
        "--to",
        "2026-08",
    ]);
    let csv = &out.expect_code(0).stdout;
    assert!(csv.starts_with("# Video consultations held"), "{csv}");
    assert!(csv.contains("not suppressed"), "{csv}");
    let rows: Vec<&str> = csv.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        rows,
        [
            "month,organisation,one_to_one,with_carer,group,total",
            "2026-07,\"'=Hill, Trust\",0,0,0,0",
            "2026-07,Riverside,0,0,0,0",
            "2026-08,\"'=Hill, Trust\",0,0,0,0",
            "2026-08,Riverside,2,0,0,2",
        ]
    );
    assert!(!csv.contains("Sam Patient"));
    setup
        .run(&[
            "governance",
            "counts",
            "--from",
            "2026-08",
            "--to",
            "2026-07",
        ])
        .expect_refusal(2, &["--to"]);
    setup
        .run(&[
            "governance",
            "counts",
            "--from",
            "August",
            "--to",
            "2026-07",
        ])
        .expect_refusal(2, &["--from: month must be written YYYY-MM"]);
}

#[tokio::test]
async fn retention_removes_old_data_and_the_audit_log_still_verifies_until_tampered_with() {
    let setup = Setup::new().await;
    let store = setup.store().await;
    let now = OffsetDateTime::now_utc();
    // Three audit entries from nine years ago, before anything else.
    let mut tx = store.begin().await.unwrap();
    for _ in 0..3 {
        tx.audit(
            &NewAudit {
                actor: &Actor::System,
                action: "test.old",
                object: "x",
                org_id: None,
                client_addr: None,
                detail: "",
            },
            now - Duration::days(9 * 365),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    setup.create_org("Riverside");
    let org = org_id(&store, "Riverside").await;
    let clinic = clinic_of(&setup, "Riverside");
    let old = now - Duration::days(400);
    let (gone, patient) = consultation(
        &store,
        &org,
        &clinic,
        &[Event::Arrive, Event::Admit, Event::End],
        old,
    )
    .await;
    let mut tx = store.begin().await.unwrap();
    tx.journey_step(&org, &patient, JourneyStep::Admitted, None, old)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (kept, _) = consultation(
        &store,
        &org,
        &clinic,
        &[Event::Arrive, Event::Admit, Event::End],
        now,
    )
    .await;

    let out = setup.run(&["admin", "retention", "run"]);
    let text = &out.expect_code(0).stdout;
    assert!(
        text.contains("removed 1 consultation_data older than"),
        "{text}"
    );
    assert!(
        text.contains("removed 1 journey_steps older than"),
        "{text}"
    );
    assert!(
        text.contains("removed 3 audit_entries older than"),
        "{text}"
    );
    assert!(!text.contains("Sam Patient"));
    let names = |c: ConsultationId| {
        let (store, org) = (store.clone(), org.clone());
        async move {
            store.attendees(&org, &c).await.unwrap()[0]
                .name
                .as_str()
                .to_owned()
        }
    };
    assert_eq!(names(gone).await, "Name removed");
    assert_eq!(names(kept).await, "Sam Patient");
    // Each removal was audited, without personal data.
    let out = setup.run(&["audit", "export", "--format", "csv"]);
    let log = &out.expect_code(0).stdout;
    assert_eq!(log.matches("retention.remove").count(), 3, "{log}");
    assert!(
        log.contains("kind=journey_steps count=1 older_than="),
        "{log}"
    );
    assert!(!log.contains("test.old"), "the old entries are gone");

    let out = verify(&setup);
    let text = &out.expect_code(0).stdout;
    assert!(
        text.contains("entries 1 to 3 were removed by retention"),
        "{text}"
    );
    // A second run has nothing to do.
    let again = setup.run(&["admin", "retention", "run"]);
    assert!(
        again.expect_code(0).stdout.contains("nothing is older"),
        "{again:#?}"
    );

    // Tampering with what remains is still found: an edit, then a removal.
    let pool = raw(&setup).await;
    drop_triggers(&setup, &pool).await;
    sqlx::query("UPDATE audit_log SET detail = 'nothing' WHERE seq = 5")
        .execute(&pool)
        .await
        .unwrap();
    expect_broken_at(&verify(&setup), 5, "content altered");
    sqlx::query("DELETE FROM audit_log WHERE seq IN (4, 5)")
        .execute(&pool)
        .await
        .unwrap();
    expect_broken_at(&verify(&setup), 6, "an entry before it is missing");
}
