//! Two-step sign-in: enrolment with a QR code, codes that work once, recovery codes, and
//! the organisation policy that requires it.

mod common;

use common::*;
use haven_domain::Role;
use haven_domain::time::Duration;
use haven_domain::totp::{self, TotpSecret};
use reqwest::StatusCode;

#[tokio::test]
async fn enrolment_shows_a_qr_code_refuses_a_wrong_code_and_gives_recovery_codes_once() {
    let app = spawn_app().await;
    let admin = app.setup_org_and_admin().await;
    let browser = app.browser();
    let first = browser
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await;
    // MFA is required by default and the admin has none yet: enrol before anything else.
    first.assert_redirect("/account/mfa");
    browser.get("/").await.assert_redirect("/account/mfa");

    let page = browser.get("/account/mfa").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("<svg"), "an inline SVG QR code");
    assert!(page.contains("aria-label=\"QR code for your authenticator app\""));
    let secret = page.input_value("secret").unwrap();
    let grouped: Vec<String> = secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    assert!(
        page.contains(&grouped.join(" ")),
        "the key is shown for typing"
    );
    let key = TotpSecret::from_base32(&secret).unwrap();

    let right = totp::code_at(&key, app.now().unix_timestamp());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let refused = browser
        .post_form_with(
            &page.csrf(),
            "/account/mfa",
            &[("secret", &secret), ("code", wrong)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    refused.assert_field_error("code", "That code is not right");
    assert!(app.user(&admin.email).await.totp_secret.is_none());
    browser.get("/").await.assert_redirect("/account/mfa");

    let enrolled = browser
        .post_form_with(
            &page.csrf(),
            "/account/mfa",
            &[("secret", &secret), ("code", &right)],
        )
        .await;
    assert_eq!(enrolled.status, StatusCode::OK);
    let codes = enrolled.recovery_codes();
    assert_eq!(codes.len(), 10, "{}", enrolled.body);
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 19 && c.matches('-').count() == 3)
    );
    assert!(enrolled.contains("They will not be shown again"));
    assert_eq!(app.user(&admin.email).await.totp_secret, Some(key));
    assert_eq!(app.audit_of("user.mfa_enrol").await.len(), 1);
    assert_eq!(app.audit_of("staff.sign_in").await.len(), 1);

    // Signed in now; the codes are not on any later page.
    let account = browser.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.contains("On (authenticator app)"));
    assert!(codes.iter().all(|c| !account.contains(c)));
}

#[tokio::test]
async fn next_sign_in_asks_for_a_code_and_refuses_a_replayed_one() {
    let app = spawn_app().await;
    let (admin, first) = app.signed_in_admin().await;
    let secret = app.user(&admin.email).await.totp_secret.unwrap();
    // The code that enrolment used, still inside its 30-second step.
    let used = totp::code_at(&secret, app.now().unix_timestamp());

    let browser = app.browser();
    let page = browser
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await;
    page.assert_redirect("/signin/mfa");
    browser.get("/").await.assert_redirect("/signin/mfa");
    let form = browser.get("/signin/mfa").await;
    assert!(form.contains("Enter your code"));

    let replay = browser.post_form("/signin/mfa", &[("code", &used)]).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    replay.assert_field_error("code", "has been used already");
    assert_eq!(app.audit_of("staff.mfa_failed").await.len(), 1);
    browser.get("/").await.assert_redirect("/signin/mfa");

    // Half a minute later the app shows a new code, which works once.
    app.advance(Duration::seconds(30));
    let fresh = totp::code_at(&secret, app.now().unix_timestamp());
    let ok = browser.post_form("/signin/mfa", &[("code", &fresh)]).await;
    ok.assert_redirect("/");
    assert_eq!(browser.get("/").await.status, StatusCode::OK);

    // The same fresh code on a third browser, in the same step: refused.
    let third = app.browser();
    third
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await
        .assert_redirect("/signin/mfa");
    let again = third.post_form("/signin/mfa", &[("code", &fresh)]).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    // The first browser is unaffected by any of this.
    assert_eq!(first.get("/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = spawn_app().await;
    let admin = app.setup_org_and_admin().await;
    let enrol = app
        .sign_in(&app.browser(), &admin.email, &admin.password)
        .await;
    let codes = enrol.recovery_codes;
    assert_eq!(codes.len(), 10);

    let first = app.browser();
    first
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await
        .assert_redirect("/signin/mfa");
    // Typed in capitals with spaces instead of hyphens, as someone might from paper.
    let typed = codes[3].to_uppercase().replace('-', " ");
    first
        .post_form("/signin/mfa", &[("code", &typed)])
        .await
        .assert_redirect("/");
    let entry = app.audit_of("staff.sign_in").await.pop().unwrap();
    assert_eq!(entry.detail, "password and recovery code");

    let second = app.browser();
    second
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await
        .assert_redirect("/signin/mfa");
    let again = second
        .post_form("/signin/mfa", &[("code", &codes[3])])
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    // Another unused code still works.
    second
        .post_form("/signin/mfa", &[("code", &codes[4])])
        .await
        .assert_redirect("/");
}

#[tokio::test]
async fn without_the_mfa_policy_a_password_is_enough() {
    let app = spawn_app().await;
    let (admin, admin_browser) = app.signed_in_admin().await;
    let clinician = app
        .add_user(
            &admin.org,
            "joseph.lister@riverside.example.org",
            "Joseph Lister",
            &[Role::Clinician],
            "marble falcon prairie whistle",
        )
        .await;

    // With the policy on, the clinician must enrol first.
    let browser = app.browser();
    browser
        .post_form(
            "/signin",
            &[
                ("email", &clinician.email),
                ("password", &clinician.password),
            ],
        )
        .await
        .assert_redirect("/account/mfa");

    // The admin turns the policy off through the policy page.
    let policy = admin_browser.get("/admin/policy").await;
    assert!(policy.contains("name=\"mfa_required\" value=\"on\" checked"));
    let saved = admin_browser
        .post_form_with(
            &policy.csrf(),
            "/admin/policy",
            &[
                ("invite_lifetime", "appointment_day"),
                ("hours", ""),
                ("identity_check", "name_dob"),
                ("consultation_limit", "90"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    assert!(saved.contains("Policy saved."));
    assert!(!app.store.org(&admin.org).await.unwrap().policy.mfa_required);

    // A new sign-in needs only the password.
    let fresh = app.browser();
    fresh
        .post_form(
            "/signin",
            &[
                ("email", &clinician.email),
                ("password", &clinician.password),
            ],
        )
        .await
        .assert_redirect("/");
    let home = fresh.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.contains("Hello, Joseph Lister"));
    let entry = app.audit_of("staff.sign_in").await.pop().unwrap();
    assert_eq!(entry.detail, "password");

    // Turning the policy back on applies at once, even to a session already open.
    app.set_mfa_required(&admin.org, true).await;
    fresh.get("/").await.assert_redirect("/account/mfa");

    // An admin who did enrol is still asked for a code.
    let again = app.browser();
    again
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await
        .assert_redirect("/signin/mfa");
}

#[tokio::test]
async fn ten_wrong_codes_lock_the_second_step_too() {
    let app = spawn_app().await;
    let (admin, _) = app.signed_in_admin().await;
    let secret = app.user(&admin.email).await.totp_secret.unwrap();
    let browser = app.browser();
    browser
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await
        .assert_redirect("/signin/mfa");
    let now = app.now().unix_timestamp();
    let near: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|d| totp::code_at(&secret, now + d))
        .collect();
    let wrong = (0..)
        .map(|n| format!("{:06}", n * 111_111 % 1_000_000))
        .find(|c| !near.contains(c))
        .unwrap();
    for i in 0..10 {
        let page = browser.post_form("/signin/mfa", &[("code", &wrong)]).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {}", i + 1);
    }
    assert_eq!(app.audit_of("staff.mfa_failed").await.len(), 10);
    assert_eq!(app.audit_of("staff.locked_out").await.len(), 1);

    let right = app.next_code(&admin.email).await;
    let page = browser.post_form("/signin/mfa", &[("code", &right)]).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        page.text().contains("Try again in 5 minute(s)."),
        "{}",
        page.body
    );
    browser.get("/").await.assert_redirect("/signin/mfa");

    app.advance(Duration::minutes(5));
    let right = app.next_code(&admin.email).await;
    browser
        .post_form("/signin/mfa", &[("code", &right)])
        .await
        .assert_redirect("/");
}

#[tokio::test]
async fn setting_up_a_new_authenticator_replaces_the_old_one_and_its_codes() {
    let app = spawn_app().await;
    let admin = app.setup_org_and_admin().await;
    let browser = app.browser();
    let first = app.sign_in(&browser, &admin.email, &admin.password).await;
    let old_secret = app.user(&admin.email).await.totp_secret.unwrap();
    let account = browser.get("/account").await;
    assert!(account.contains("Set up a new authenticator app"));

    app.advance(Duration::seconds(30));
    let second = app.enrol_mfa(&browser).await;
    assert_eq!(second.recovery_codes.len(), 10);
    let new_secret = app.user(&admin.email).await.totp_secret.unwrap();
    assert_ne!(old_secret, new_secret);
    assert_eq!(app.audit_of("user.mfa_enrol").await.len(), 2);

    // The old phone's code and the old recovery codes no longer open anything.
    app.advance(Duration::seconds(30));
    let other = app.browser();
    other
        .post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await
        .assert_redirect("/signin/mfa");
    let old_code = totp::code_at(&old_secret, app.now().unix_timestamp());
    let page = other.post_form("/signin/mfa", &[("code", &old_code)]).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let page = other
        .post_form("/signin/mfa", &[("code", &first.recovery_codes[0])])
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    other
        .post_form("/signin/mfa", &[("code", &second.recovery_codes[0])])
        .await
        .assert_redirect("/");
}
