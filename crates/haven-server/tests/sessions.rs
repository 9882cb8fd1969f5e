//! Staff sessions end by themselves (idle and absolute timeouts) and on request (sign-out,
//! an admin's "sign out of all devices"), in simulated time.

mod common;

use common::*;
use haven_domain::Role;
use haven_domain::time::Duration;
use reqwest::StatusCode;

#[tokio::test]
async fn an_idle_session_ends_after_30_minutes_and_activity_keeps_it_alive() {
    let app = spawn_app().await;
    let (_, browser) = app.signed_in_admin().await;

    // 29 minutes idle, three times over: each request resets the idle timer.
    for _ in 0..3 {
        app.advance(Duration::minutes(29));
        assert_eq!(browser.get("/").await.status, StatusCode::OK);
    }

    app.advance(Duration::minutes(31));
    browser.get("/").await.assert_redirect("/signin");
    // The session is gone, not just refused once.
    app.advance(Duration::minutes(1));
    browser.get("/account").await.assert_redirect("/signin");
}

#[tokio::test]
async fn a_session_ends_after_12_hours_however_active() {
    let app = spawn_app().await;
    let (_, browser) = app.signed_in_admin().await;
    // Enrolment happened at sign-in; the session began at the password step.
    let began = START;
    let mut requests = 0;
    loop {
        app.advance(Duration::minutes(20));
        let page = browser.get("/").await;
        requests += 1;
        if app.now() - began < Duration::hours(12) {
            assert_eq!(page.status, StatusCode::OK, "at {}", app.now());
        } else {
            page.assert_redirect("/signin");
            break;
        }
    }
    assert_eq!(requests, 36, "signed out exactly at 12 hours");
}

#[tokio::test]
async fn sign_out_ends_the_session_for_good() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let cookie = browser.session_cookie();

    let out = browser.post_form("/signout", &[]).await;
    out.assert_redirect("/signin");
    let cleared = out
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("haven_session="))
        .expect("the session cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    browser.get("/").await.assert_redirect("/signin");

    // A copy of the old cookie (kept by an attacker, say) opens nothing.
    let copy = Browser::with_cookie(&app.base, &cookie);
    copy.get("/").await.assert_redirect("/signin");
    copy.get("/admin/users").await.assert_redirect("/signin");

    let entries = app.audit_of("staff.sign_out").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].object, format!("user:{}", admin.id));
}

#[tokio::test]
async fn admin_can_sign_a_user_out_of_all_devices() {
    let app = spawn_app().await;
    let (admin, admin_browser) = app.signed_in_admin().await;
    app.set_mfa_required(&admin.org, false).await;
    let nurse = app
        .add_user(
            &admin.org,
            "mary.seacole@riverside.example.org",
            "Mary Seacole",
            &[Role::Clinician],
            "marble falcon prairie whistle",
        )
        .await;
    let laptop = app.browser();
    let phone = app.browser();
    for b in [&laptop, &phone] {
        app.sign_in(b, &nurse.email, &nurse.password)
            .await
            .assert_home();
        assert_eq!(b.get("/").await.status, StatusCode::OK);
    }

    let user_page = admin_browser
        .get(&format!("/admin/users/{}", nurse.id))
        .await;
    assert!(user_page.contains("Sign out of all devices"));
    let done = admin_browser
        .post_form_with(
            &user_page.csrf(),
            &format!("/admin/users/{}/sessions/end", nurse.id),
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.contains("Signed out of 2 session(s)."),
        "{}",
        done.body
    );

    laptop.get("/").await.assert_redirect("/signin");
    phone.get("/").await.assert_redirect("/signin");
    // The admin's own session is untouched.
    assert_eq!(admin_browser.get("/").await.status, StatusCode::OK);
    let entries = app.audit_of("user.sessions_end").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].object, format!("user:{}", nurse.id));
    assert_eq!(entries[0].detail, "sessions: 2");
}

#[tokio::test]
async fn a_user_can_sign_out_everywhere() {
    let app = spawn_app().await;
    let (admin, first) = app.signed_in_admin().await;
    let second = app.browser();
    app.sign_in(&second, &admin.email, &admin.password)
        .await
        .assert_home();
    let page = second.get("/account").await;
    second
        .post_form_with(&page.csrf(), "/account/sessions/end", &[])
        .await
        .assert_redirect("/signin");
    first.get("/").await.assert_redirect("/signin");
    second.get("/").await.assert_redirect("/signin");
}
