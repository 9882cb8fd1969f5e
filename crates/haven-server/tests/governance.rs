//! The governance page and its CSV of national counts (admins and IG auditors of the
//! organisation only), retention periods on the policy page, and the daily retention job
//! in simulated time.

mod common;

use common::TestApp;
use haven_domain::consultation::{Event, JourneyStep};
use haven_domain::time::Duration;
use haven_domain::{Role, UkMonth};
use haven_server::ops::retention;
use reqwest::StatusCode;

/// A consultation booked for tomorrow, admitted now (the first admission makes it held).
async fn held(app: &TestApp, org: &haven_domain::OrgId) -> haven_domain::AttendeeId {
    let done = app.book_tomorrow(org, "Physiotherapy").await;
    let mut tx = app.store.begin().await.unwrap();
    tx.transition(org, &done.id, Event::Arrive, app.now())
        .await
        .unwrap();
    tx.transition(org, &done.id, Event::Admit, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let patient = app.store.attendees(org, &done.id).await.unwrap().remove(0);
    patient.id
}

#[tokio::test]
async fn admins_and_auditors_see_the_report_and_download_the_counts() {
    let app = common::spawn_app().await;
    let (admin, admin_browser) = app.signed_in_admin().await;
    held(&app, &admin.org).await;
    let month = UkMonth::containing(app.now());

    let page = admin_browser.get("/admin/governance").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for text in [
        "href=\"/admin/governance\"",
        "Verify the patient's identity",
        "Identity checklist confirmed in 0 of 1 consultation held in",
        &month.label(),
        "status-enforced",
        "Guidance: <cite>Using video conferencing and consultation tools guidance for health and care professionals</cite>",
        "Haven ",
    ] {
        assert!(page.contains(text), "{text:?} missing: {}", page.body);
    }
    for personal in ["Sam Patient", "07700"] {
        assert!(
            !page.contains(personal),
            "{personal:?} on the governance page"
        );
    }
    let bad = admin_browser.get("/admin/governance?month=2026-13").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.contains("Enter the month as YYYY-MM"), "{}", bad.body);

    let csv = admin_browser
        .get(&format!(
            "/admin/governance/counts.csv?from={month}&to={month}"
        ))
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        csv.body
            .contains(&format!("{month},Riverside Health Centre,1,0,0,1")),
        "{}",
        csv.body
    );
    let bad = admin_browser
        .get("/admin/governance/counts.csv?from=x")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // An IG auditor may see it; a clinician and a receptionist may not; another
    // organisation's admin sees only their own counts.
    app.set_mfa_required(&admin.org, false).await;
    for (email, role, allowed) in [
        ("ig@riverside.example.org", Role::IgAuditor, true),
        ("doc@riverside.example.org", Role::Clinician, false),
        ("desk@riverside.example.org", Role::Receptionist, false),
    ] {
        let paths = ["/admin/governance", "/admin/governance/counts.csv"];
        app.assert_role_reads(&admin.org, email, role, &paths, allowed)
            .await;
    }
    let browser = app.admin_elsewhere("Hillside Practice").await;
    let csv = browser
        .get(&format!(
            "/admin/governance/counts.csv?from={month}&to={month}"
        ))
        .await;
    assert!(
        csv.body
            .contains(&format!("{month},Hillside Practice,0,0,0,0")),
        "{}",
        csv.body
    );
    assert!(!csv.body.contains("Riverside"), "{}", csv.body);
    let anonymous = app.browser().get("/admin/governance").await;
    assert_ne!(anonymous.status, StatusCode::OK);
}

#[tokio::test]
async fn retention_periods_are_edited_on_the_policy_page_with_field_errors_and_audited() {
    let app = common::spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let page = browser.get("/admin/policy").await;
    assert!(page.contains("How long data is kept"), "{}", page.body);
    assert!(page.contains("name=\"audit_entries\""), "{}", page.body);
    let csrf = page.csrf();
    let mut fields = vec![
        ("mfa_required", "on"),
        ("invite_lifetime", "appointment_day"),
        ("identity_check", "name_dob"),
        ("consultation_limit", "90"),
        ("consultation_data", "365"),
        ("saved_chat", "7"),
        ("journey_steps", "180"),
        ("audit_entries", "30"),
    ];
    let bad = browser
        .post_form_with(&csrf, "/admin/policy", &fields)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.contains("Audit log entries must be kept for a whole number of days from 365 to 7300"),
        "{}",
        bad.body
    );
    assert!(
        bad.contains("value=\"30\""),
        "what was typed stays: {}",
        bad.body
    );
    assert_eq!(
        app.store.retention_policy(&admin.org).await.unwrap(),
        Default::default()
    );

    fields[7] = ("audit_entries", "3650");
    let ok = browser
        .post_form_with(&csrf, "/admin/policy", &fields)
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let stored = app.store.retention_policy(&admin.org).await.unwrap();
    assert_eq!(
        stored,
        haven_domain::RetentionPolicy::new(365, 7, 180, 3650).unwrap()
    );
    let entries = app.audit_of("org.retention_change").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].detail,
        "saved_chat: 90 days -> 7 days; audit_entries: 2922 days -> 3650 days"
    );
}

#[tokio::test]
async fn the_daily_job_removes_what_is_older_than_the_periods_in_simulated_time() {
    let app = common::spawn_app().await;
    let (admin, _) = app.signed_in_admin().await;
    let patient = held(&app, &admin.org).await;
    let mut tx = app.store.begin().await.unwrap();
    tx.journey_step(
        &admin.org,
        &patient,
        JourneyStep::LinkOpened,
        None,
        app.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (job, mut runs) = retention::spawn(app.store.clone(), app.clock.clone());
    runs.wait_for(|n| *n >= 1).await.unwrap();
    let steps = || async { app.store.journey(&admin.org, &patient).await.unwrap().len() };
    assert_eq!(steps().await, 1, "nothing is old enough yet");
    assert!(app.audit_of("retention.remove").await.is_empty());

    // 181 days on, a day's run removes the journey steps (180 days by default) and audits it.
    app.advance(Duration::days(181));
    runs.wait_for(|n| *n >= 2).await.unwrap();
    assert_eq!(steps().await, 0);
    let removed = app.audit_of("retention.remove").await;
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert!(
        removed[0]
            .detail
            .starts_with("kind=journey_steps count=1 older_than="),
        "{}",
        removed[0].detail
    );
    assert!(removed[0].detail.ends_with("period_days=180"));
    assert_eq!(app.verify_chain().await, app.audit().await.len() as u64);
    job.abort();
}
