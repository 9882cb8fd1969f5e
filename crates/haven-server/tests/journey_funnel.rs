//! The pre-call check's result reaching the server (strictly checked, limited, refused for
//! dead links) and the journey funnel administrators and IG auditors see, as a page and as
//! JSON: counts only, this organisation's only, for a UK day.

mod common;

use common::{Browser, TestApp};
use haven_domain::time::Duration;
use haven_domain::{OrgId, Role, uk_time};
use haven_server::ops::booking::cancel;
use reqwest::StatusCode;
use serde_json::Value;

/// A patient's link to a consultation in `clinic` tomorrow at 14:30 UK time: the link's
/// path, the consultation and the day (`YYYY-MM-DD`).
struct Booked {
    path: String,
    id: haven_domain::ConsultationId,
    day: String,
}

async fn booked(app: &TestApp, org: &OrgId, clinic: &str) -> Booked {
    let done = app.book_tomorrow(org, clinic).await;
    let day = (uk_time::local(app.now()) + Duration::days(1)).date();
    Booked {
        path: app.link_path(&done),
        id: done.id,
        day: day.to_string(),
    }
}

/// Opens the link and confirms name and date of birth, as the patient does; returns the
/// browser's CSRF token.
async fn arrive(browser: &Browser, path: &str) -> String {
    let csrf = browser.get(path).await.csrf();
    browser
        .post_form_with(
            &csrf,
            path,
            &[
                ("name", "Sam Patient"),
                ("date_of_birth-day", "27"),
                ("date_of_birth-month", "3"),
                ("date_of_birth-year", "1984"),
            ],
        )
        .await
        .assert_redirect(&format!("{path}/check"));
    csrf
}

async fn report(
    browser: &Browser,
    csrf: &str,
    path: &str,
    result: &str,
    problem: &str,
) -> common::Page {
    browser
        .post_form_with(
            csrf,
            &format!("{path}/check-result"),
            &[("result", result), ("problem", problem)],
        )
        .await
}

async fn json(browser: &Browser, path: &str) -> Value {
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    serde_json::from_str(&page.body).expect("JSON")
}

#[tokio::test]
async fn the_check_result_is_recorded_strictly_limited_and_refused_for_dead_links() {
    let app = common::spawn_app().await;
    let org = app.create_org("Riverside Health").await;
    let b = booked(&app, &org, "Physiotherapy").await;
    let browser = app.browser();
    let csrf = browser.get(&b.path).await.csrf();

    let early = report(&browser, &csrf, &b.path, "check_passed", "").await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    assert!(
        early.contains("Confirm your name and date of birth"),
        "{}",
        early.body
    );

    arrive(&browser, &b.path).await;
    let forged = browser
        .post_raw(
            &format!("{}/check-result", b.path),
            "application/x-www-form-urlencoded",
            b"result=check_passed".to_vec(),
            &[],
        )
        .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "a request without the CSRF token"
    );

    for (result, problem, says) in [
        (
            "check_failed",
            "cosmic_rays",
            "unknown check problem 'cosmic_rays'",
        ),
        ("check_failed", "", "a failed check needs a"),
        ("check_passed", "no_camera", "a passed check has no problem"),
        (
            "admitted",
            "",
            "result must be check_passed or check_failed",
        ),
    ] {
        let page = report(&browser, &csrf, &b.path, result, problem).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{result} {problem}");
        assert!(page.contains(says), "{says:?} missing: {}", page.body);
    }

    let page = report(
        &browser,
        &csrf,
        &b.path,
        "check_failed",
        "permission_denied",
    )
    .await;
    assert_eq!(page.status, StatusCode::NO_CONTENT, "{}", page.body);
    let page = report(&browser, &csrf, &b.path, "check_passed", "").await;
    assert_eq!(page.status, StatusCode::NO_CONTENT, "{}", page.body);
    let day = haven_domain::time::Date::parse(
        &b.day,
        &haven_domain::time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    let from = uk_time::from_local(day, haven_domain::time::Time::MIDNIGHT);
    let funnels = app
        .store
        .funnels(&org, from, from + Duration::days(1))
        .await
        .unwrap();
    let funnel = &funnels[0].1;
    assert_eq!(
        funnel.reached(haven_domain::consultation::JourneyStep::CheckPassed),
        1
    );
    assert!(
        funnel
            .failed_by_problem
            .contains(&(haven_domain::journey::CheckProblem::PermissionDenied, 1))
    );

    // Ten results in five minutes, then a pause.
    for _ in 0..8 {
        let page = report(&browser, &csrf, &b.path, "check_passed", "").await;
        assert_eq!(page.status, StatusCode::NO_CONTENT);
    }
    let page = report(&browser, &csrf, &b.path, "check_passed", "").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    app.advance(Duration::minutes(6));
    let page = report(&browser, &csrf, &b.path, "check_passed", "").await;
    assert_eq!(page.status, StatusCode::NO_CONTENT);

    cancel(&app.store, &app.system(), &org, &b.id)
        .await
        .unwrap();
    let page = report(&browser, &csrf, &b.path, "check_passed", "").await;
    assert_eq!(
        page.status,
        StatusCode::NOT_FOUND,
        "a cancelled consultation's link is dead"
    );
    let page = report(&browser, &csrf, "/join/not-a-token", "check_passed", "").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admins_and_auditors_see_their_own_clinics_funnel_without_personal_data() {
    let app = common::spawn_app().await;
    let (admin, admin_browser) = app.signed_in_admin().await;
    let b = booked(&app, &admin.org, "Physiotherapy").await;
    booked(&app, &admin.org, "Podiatry").await;
    let patient = app.browser();
    let csrf = arrive(&patient, &b.path).await;
    report(&patient, &csrf, &b.path, "check_failed", "no_camera").await;
    report(&patient, &csrf, &b.path, "check_passed", "").await;

    let page = admin_browser
        .get(&format!("/admin/journey?date={}", b.day))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for text in [
        "href=\"/admin/journey\"",
        "Physiotherapy",
        "0 of 1",
        "Passed the check",
        "No camera (sound only)",
        "Did not open the link",
        "nobody was admitted",
    ] {
        assert!(page.contains(text), "{text:?} missing: {}", page.body);
    }
    let token = b.path.trim_start_matches("/join/");
    for personal in ["Sam", "Patient", "07700", "1984", token, b.id.as_str()] {
        assert!(!page.contains(personal), "{personal:?} on the funnel page");
    }

    let figures = json(
        &admin_browser,
        &format!("/admin/journey.json?date={}", b.day),
    )
    .await;
    assert_eq!(figures["date"], b.day.as_str());
    let clinics = figures["clinics"].as_array().unwrap();
    let physio = clinics
        .iter()
        .find(|c| c["clinic"] == "Physiotherapy")
        .unwrap();
    assert_eq!(physio["invited"], 1);
    assert_eq!(physio["reached"]["link_opened"], 1);
    assert_eq!(physio["reached"]["details_entered"], 1);
    assert_eq!(physio["reached"]["check_passed"], 1);
    assert_eq!(physio["check_failed_by_problem"]["no_camera"], 1);
    assert_eq!(physio["working_calls"], 0);
    assert_eq!(physio["stopped_at"]["check_passed"], 1);
    assert_eq!(
        physio["median_seconds_link_opened_to_admitted"],
        Value::Null
    );
    let podiatry = clinics.iter().find(|c| c["clinic"] == "Podiatry").unwrap();
    assert_eq!(podiatry["stopped_at"]["not_opened"], 1);
    let text = figures.to_string();
    for personal in ["Sam", "07700", token, b.id.as_str()] {
        assert!(!text.contains(personal), "{personal:?} in the JSON");
    }

    // Today (UK) by default; nothing booked today.
    let today = uk_time::local(app.now()).date().to_string();
    let page = admin_browser.get("/admin/journey").await;
    assert!(
        page.contains(&format!("value=\"{today}\"")),
        "{}",
        page.body
    );
    assert!(page.contains("No video appointments on this day."));
    let bad = admin_browser.get("/admin/journey?date=31-02-2026").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.contains("Enter the date as YYYY-MM-DD"), "{}", bad.body);
    let bad = admin_browser
        .get("/admin/journey.json?date=yesterday")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // An IG auditor may see it; a clinician may not; another organisation sees only its own.
    app.set_mfa_required(&admin.org, false).await;
    for (email, role, allowed) in [
        ("ig@riverside.example.org", Role::IgAuditor, true),
        ("doc@riverside.example.org", Role::Clinician, false),
    ] {
        let paths = ["/admin/journey", "/admin/journey.json"];
        let browser = app
            .assert_role_reads(&admin.org, email, role, &paths, allowed)
            .await;
        let home = browser.get("/").await;
        assert_eq!(
            home.contains("href=\"/admin/journey\""),
            allowed,
            "{role:?} navigation"
        );
    }
    let browser = app.admin_elsewhere("Hillside Practice").await;
    let figures = json(&browser, &format!("/admin/journey.json?date={}", b.day)).await;
    assert_eq!(figures["clinics"], serde_json::json!([]));
    let page = browser.get(&format!("/admin/journey?date={}", b.day)).await;
    assert!(!page.contains("Physiotherapy"), "{}", page.body);

    assert_eq!(
        app.browser().get("/admin/journey.json").await.status,
        StatusCode::SEE_OTHER,
        "signing in first"
    );
}
