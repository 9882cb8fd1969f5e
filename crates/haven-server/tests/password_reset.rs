//! Passwords chosen by someone else: the forced change at first sign-in, and the
//! single-use, one-hour reset link an admin hands over.

mod common;

use common::*;
use reqwest::StatusCode;

const GRACE_EMAIL: &str = "grace.hopper@riverside.example.org";
const GRACE_PASSWORD: &str = "violet harbour tractor umbrella";

/// Adds Grace as a clinician through the add-user form; returns her id.
async fn add_grace(app: &TestApp, browser: &Browser) -> haven_domain::UserId {
    let page = browser
        .post_form(
            "/admin/users",
            &[
                ("name", "Grace Hopper"),
                ("email", GRACE_EMAIL),
                ("role", "clinician"),
                ("password", GRACE_PASSWORD),
            ],
        )
        .await;
    let id = app.user(GRACE_EMAIL).await.id;
    page.assert_redirect(&format!("/admin/users/{id}"));
    id
}

#[tokio::test]
async fn a_new_user_must_choose_their_own_password_at_first_sign_in() {
    let app = spawn_app().await;
    let (_, admin_browser) = app.signed_in_admin().await;
    add_grace(&app, &admin_browser).await;

    let browser = app.browser();
    let signed = app.sign_in(&browser, GRACE_EMAIL, GRACE_PASSWORD).await;
    assert_eq!(signed.recovery_codes.len(), 10, "MFA enrolment came first");
    assert!(
        signed
            .last
            .contains("<a class=\"button\" href=\"/account/password\">")
    );
    for path in ["/", "/account", "/admin/users"] {
        browser.get(path).await.assert_redirect("/account/password");
    }
    let page = browser.get("/account/password").await;
    assert!(page.contains("Your password was set by an administrator."));
    // Keeping the admin's password is not an option.
    let same = browser
        .post_form_with(
            &page.csrf(),
            "/account/password",
            &[("current", GRACE_PASSWORD), ("password", GRACE_PASSWORD)],
        )
        .await;
    assert_eq!(same.status, StatusCode::BAD_REQUEST);
    same.assert_field_error("password", "different from the current one");

    browser
        .post_form(
            "/account/password",
            &[
                ("current", GRACE_PASSWORD),
                ("password", "quartz meadow lantern biscuit"),
            ],
        )
        .await
        .assert_redirect("/");
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    assert!(!app.user(GRACE_EMAIL).await.must_change_password);
    assert_eq!(app.audit_of("user.password_change").await.len(), 1);
}

#[tokio::test]
async fn a_reset_link_works_once_for_one_hour_and_signs_the_user_out_everywhere() {
    let app = spawn_app().await;
    let (_, admin_browser) = app.signed_in_admin().await;
    let grace = add_grace(&app, &admin_browser).await;
    let grace_browser = app.browser();
    app.sign_in(&grace_browser, GRACE_EMAIL, GRACE_PASSWORD)
        .await;
    assert_eq!(
        grace_browser.get("/account/password").await.status,
        StatusCode::OK
    );

    let issue = |b: &'static str| format!("/admin/users/{grace}/{b}");
    let page = admin_browser.post_form(&issue("reset-link"), &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    let path = reset_path(&app, &page);
    assert_eq!(app.audit_of("user.password_reset_issued").await.len(), 1);

    let visitor = app.browser();
    let form = visitor.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.contains("Choose a new password"));
    // A weak password is refused and does not spend the link.
    let weak = visitor
        .post_form_with(&form.csrf(), &path, &[("password", "password1234")])
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    weak.assert_field_error("password", "too easy to guess");
    let new_password = "quartz meadow lantern biscuit";
    visitor
        .post_form_with(&form.csrf(), &path, &[("password", new_password)])
        .await
        .assert_redirect("/signin?reset=done");
    assert!(
        visitor
            .get("/signin?reset=done")
            .await
            .contains("Your password has been changed.")
    );
    assert_eq!(app.audit_of("user.password_reset").await.len(), 1);

    // Every session of the user ended; the new password works, the old one does not.
    grace_browser
        .get("/account/password")
        .await
        .assert_redirect("/signin");
    let old = app
        .sign_in(&app.browser(), GRACE_EMAIL, GRACE_PASSWORD)
        .await;
    assert_eq!(old.last.status, StatusCode::UNAUTHORIZED);
    let fresh = app.browser();
    app.sign_in(&fresh, GRACE_EMAIL, new_password)
        .await
        .assert_home();
    // She chose this password herself, so no forced change follows.
    assert_eq!(fresh.get("/").await.status, StatusCode::OK);

    // The link is spent.
    let again = visitor.get(&path).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.contains("This link cannot be used"));
    let again = visitor
        .post_form(&path, &[("password", "another fine passphrase here")])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // A new link expires after an hour; a newer one replaces an older one at once.
    let older = reset_path(
        &app,
        &admin_browser.post_form(&issue("reset-link"), &[]).await,
    );
    let newer = reset_path(
        &app,
        &admin_browser.post_form(&issue("reset-link"), &[]).await,
    );
    assert_eq!(visitor.get(&older).await.status, StatusCode::NOT_FOUND);
    app.advance(haven_domain::time::Duration::minutes(59));
    assert_eq!(visitor.get(&newer).await.status, StatusCode::OK);
    app.advance(haven_domain::time::Duration::minutes(1));
    assert_eq!(visitor.get(&newer).await.status, StatusCode::NOT_FOUND);
    let late = visitor
        .post_form(&newer, &[("password", "another fine passphrase here")])
        .await;
    assert_eq!(late.status, StatusCode::NOT_FOUND);
    assert_eq!(app.audit_of("user.password_reset").await.len(), 1);
}

/// The path of the reset link shown on an admin's user page.
fn reset_path(app: &TestApp, page: &Page) -> String {
    let prefix = format!("{}/reset/", app.base);
    let start = page.body.find(&prefix).expect("the page shows the link") + app.base.len();
    let len = page.body[start..].find('<').unwrap();
    page.body[start..start + len].to_string()
}
