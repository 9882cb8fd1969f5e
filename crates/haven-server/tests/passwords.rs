//! The password policy as people meet it: an admin adding a user, and a user changing
//! their own password. Every refusal says why and suggests a passphrase.

mod common;

use common::*;
use reqwest::StatusCode;

const ADVICE: &str = "passphrase of three or more random words";

/// Passwords that must be refused for a user called Grace Hopper, with the reason each
/// message must give.
fn weak_passwords_for_grace() -> Vec<(String, &'static str)> {
    vec![
        ("tiny words".to_string(), "at least 12 characters"),
        ("a".repeat(129), "at most 128 characters"),
        ("password1234".to_string(), "too easy to guess"),
        (
            "grace sings by the harbour".to_string(),
            "must not contain your name or email address",
        ),
        (
            "tractor hopper umbrella violin".to_string(),
            "must not contain your name or email address",
        ),
    ]
}

#[tokio::test]
async fn admin_add_user_form_enforces_the_password_policy() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let email = "grace.hopper@riverside.example.org";

    for (password, reason) in weak_passwords_for_grace() {
        let page = browser
            .post_form(
                "/admin/users",
                &[
                    ("name", "Grace Hopper"),
                    ("email", email),
                    ("role", "clinician"),
                    ("password", &password),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{password:?}");
        let message = page.assert_field_error("password", reason);
        assert!(message.contains(ADVICE), "{message}");
        assert!(!page.contains(&format!("value=\"{password}\"")));
        // What was typed is kept, so only the password needs typing again.
        assert!(page.contains("value=\"Grace Hopper\""));
    }
    assert_eq!(app.store.users(&admin.org).await.unwrap().len(), 1);

    let page = browser
        .post_form(
            "/admin/users",
            &[
                ("name", "Grace Hopper"),
                ("email", email),
                ("role", "clinician"),
                ("password", "violet harbour tractor umbrella"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let grace = app.user(email).await;
    assert_eq!(
        page.location(),
        Some(format!("/admin/users/{}", grace.id).as_str())
    );
    assert!(grace.must_change_password, "an admin chose this password");
}

#[tokio::test]
async fn password_change_enforces_the_password_policy() {
    let app = spawn_app().await;
    let (admin, _) = app.signed_in_admin().await;
    let org = admin.org.clone();
    let grace = app
        .add_user(
            &org,
            "grace.hopper@riverside.example.org",
            "Grace Hopper",
            &[haven_domain::Role::Clinician],
            "violet harbour tractor umbrella",
        )
        .await;
    app.set_mfa_required(&org, false).await;
    let browser = app.browser();
    app.sign_in(&browser, &grace.email, &grace.password)
        .await
        .assert_home();

    let form = browser.get("/account/password").await;
    assert_eq!(form.status, StatusCode::OK);
    for (password, reason) in weak_passwords_for_grace() {
        let page = browser
            .post_form_with(
                &form.csrf(),
                "/account/password",
                &[("current", &grace.password), ("password", &password)],
            )
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{password:?}");
        let message = page.assert_field_error("password", reason);
        assert!(message.contains(ADVICE), "{message}");
    }

    // The wrong current password is named as such, whatever the new one.
    let page = browser
        .post_form(
            "/account/password",
            &[
                ("current", "not my password at all"),
                ("password", "marble falcon prairie whistle"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.assert_field_error("current", "not your current password");
    assert!(app.audit_of("user.password_change").await.is_empty());

    // A long passphrase (the maximum, 128 characters) is welcome.
    let long = "marble falcon prairie whistle ".repeat(5);
    let long = &long[..128];
    let page = browser
        .post_form(
            "/account/password",
            &[("current", &grace.password), ("password", long)],
        )
        .await;
    page.assert_redirect("/");
    assert_eq!(app.audit_of("user.password_change").await.len(), 1);

    // The new password is the one that works now.
    let other = app.browser();
    let old = app.sign_in(&other, &grace.email, &grace.password).await;
    assert_eq!(old.last.status, StatusCode::UNAUTHORIZED);
    app.sign_in(&other, &grace.email, long).await.assert_home();
}
