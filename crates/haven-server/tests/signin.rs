//! Signing in: the session cookie, refusals that reveal nothing, and lock-out after
//! repeated failures (per account and per address), in simulated time.

mod common;

use common::*;
use haven_domain::Role;
use haven_domain::time::Duration;
use reqwest::StatusCode;

/// A refused sign-in page with the typed address and the token taken out, so that two
/// refusals for different addresses can be compared byte for byte.
fn refusal_text(page: &Page, email: &str) -> String {
    page.body
        .replace(email, "EMAIL")
        .replace(&page.csrf(), "TOKEN")
}

#[tokio::test]
async fn right_password_starts_a_session_with_a_strict_cookie() {
    let app = spawn_app().await;
    let admin = app.setup_org_and_admin().await;
    app.set_mfa_required(&admin.org, false).await;
    let browser = app.browser();
    let page = browser
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await;
    page.assert_redirect("/");
    let session = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("haven_session="))
        .expect("a session cookie is set")
        .to_string();
    let attrs: Vec<&str> = session.split(';').map(str::trim).collect();
    for wanted in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attrs.contains(&wanted), "{wanted} missing in {session}");
    }
    assert!(
        !attrs.iter().any(|a| a.eq_ignore_ascii_case("secure")),
        "plain HTTP cannot keep a Secure cookie: {session}"
    );
    // The CSRF token is replaced at sign-in too, with the same attributes.
    let csrf = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("haven_csrf="))
        .expect("a new CSRF cookie is set");
    assert!(csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"));

    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.contains("Hello, Ada Lovelace"));

    // The address is not case-sensitive, nor are spaces around it.
    let other = app.browser();
    let upper = format!("  {}  ", admin.email.to_uppercase());
    other
        .post_form(
            "/signin",
            &[("email", &upper), ("password", &admin.password)],
        )
        .await
        .assert_redirect("/");
    let entries = app.audit_of("staff.sign_in").await;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].object, format!("user:{}", admin.id));
    assert_eq!(entries[0].client_addr.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn wrong_password_unknown_email_and_disabled_account_look_the_same() {
    let app = spawn_app().await;
    let admin = app.setup_org_and_admin().await;
    let nurse = app
        .add_user(
            &admin.org,
            "florence@riverside.example.org",
            "Florence Nightingale",
            &[Role::Clinician],
            "marble falcon prairie whistle",
        )
        .await;
    ops_disable(&app, &admin, &nurse).await;
    let browser = app.browser();

    let wrong = browser
        .post_form(
            "/signin",
            &[
                ("email", &admin.email),
                ("password", "not the right one at all"),
            ],
        )
        .await;
    let unknown_email = "nobody@riverside.example.org";
    let unknown = browser
        .post_form(
            "/signin",
            &[
                ("email", unknown_email),
                ("password", "not the right one at all"),
            ],
        )
        .await;
    let disabled = browser
        .post_form(
            "/signin",
            &[("email", &nurse.email), ("password", &nurse.password)],
        )
        .await;

    for page in [&wrong, &unknown, &disabled] {
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.set_cookies().is_empty(), "no session for a refusal");
        page.assert_field_error("email", "The email address or password is not right.");
    }
    let wrong_text = refusal_text(&wrong, &admin.email);
    assert_eq!(wrong_text, refusal_text(&unknown, unknown_email));
    assert_eq!(wrong_text, refusal_text(&disabled, &nurse.email));

    // Each failure is audited; an unknown address is recorded without the address itself.
    let failed = app.audit_of("staff.sign_in_failed").await;
    let objects: Vec<_> = failed.iter().map(|r| r.object.as_str()).collect();
    assert_eq!(
        objects,
        [
            format!("user:{}", admin.id).as_str(),
            "account:unknown",
            format!("user:{}", nurse.id).as_str(),
        ]
    );
    assert!(failed.iter().all(|r| !r.detail.contains('@')));
    assert!(app.audit_of("staff.sign_in").await.is_empty());
}

async fn ops_disable(app: &TestApp, admin: &Account, user: &Account) {
    let ctx = haven_server::ops::Context {
        actor: haven_domain::Actor::Staff(admin.id.clone()),
        client_addr: None,
        now: app.now(),
    };
    haven_server::ops::accounts::set_disabled(&app.store, &ctx, &admin.org, &user.id, true)
        .await
        .expect("disabling works");
}

#[tokio::test]
async fn empty_fields_are_named() {
    let app = spawn_app().await;
    let page = app
        .browser()
        .post_form("/signin", &[("email", ""), ("password", "")])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.assert_field_error("email", "Enter your email address");
    page.assert_field_error("password", "Enter your password");
}

#[tokio::test]
async fn ten_failures_lock_the_account_until_the_window_passes() {
    let app = spawn_app().await;
    let admin = app.setup_org_and_admin().await;
    app.set_mfa_required(&admin.org, false).await;
    let browser = app.browser();
    for i in 0..10 {
        app.advance(Duration::seconds(20));
        let page = browser
            .post_form(
                "/signin",
                &[
                    ("email", &admin.email),
                    ("password", "guessing wildly again"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {}", i + 1);
    }
    assert_eq!(app.audit_of("staff.locked_out").await.len(), 1);
    let locked = &app.audit_of("staff.locked_out").await[0];
    assert_eq!(locked.object, format!("user:{}", admin.id));

    // The eleventh attempt is refused without a check, even with the right password.
    let page = browser
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // The first failure (at +20 s) leaves the window at +5 min 20 s; it is now +3 min 20 s.
    assert!(
        page.text().contains("Try again in 2 minute(s)."),
        "{}",
        page.body
    );
    assert!(
        page.set_cookies()
            .iter()
            .all(|c| !c.starts_with("haven_session="))
    );
    assert!(app.audit_of("staff.sign_in").await.is_empty());

    // Once the first failure leaves the window, the right password works again.
    app.advance(Duration::minutes(2));
    let page = browser
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await;
    page.assert_redirect("/");
    assert_eq!(app.audit_of("staff.sign_in").await.len(), 1);
}

#[tokio::test]
async fn ten_failures_from_one_address_lock_that_address() {
    let app = spawn_app().await;
    let admin = app.setup_org_and_admin().await;
    app.set_mfa_required(&admin.org, false).await;
    let browser = app.browser();
    let token = browser.csrf().await;
    for i in 0..10 {
        let email = format!("stranger{i}@riverside.example.org");
        // A made-up X-Forwarded-For does not make each attempt look like a new address:
        // no proxy is trusted, so the header is ignored.
        let req = browser
            .client
            .post(browser.url("/signin"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .form(&[
                ("_csrf", token.as_str()),
                ("email", &email),
                ("password", "guessing wildly"),
            ]);
        let page = browser.send(req).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {}", i + 1);
    }
    let locked = app.audit_of("staff.locked_out").await;
    assert_eq!(locked.len(), 1);
    assert_eq!(locked[0].client_addr.as_deref(), Some("127.0.0.1"));
    let failed = app.audit_of("staff.sign_in_failed").await;
    assert!(
        failed
            .iter()
            .all(|r| r.client_addr.as_deref() == Some("127.0.0.1"))
    );

    // The real admin, from the same address, has to wait too.
    let page = browser
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        page.text().contains("Try again in 5 minute(s)."),
        "{}",
        page.body
    );

    app.advance(Duration::minutes(5));
    let page = browser
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await;
    page.assert_redirect("/");
}
