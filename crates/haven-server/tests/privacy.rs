//! No personal data or secret reaches a log: the whole first-day flow runs with every log
//! line (all levels) captured, and the capture is searched for what must not be there.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use reqwest::StatusCode;

/// Log output collected in memory.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

const GRACE_EMAIL: &str = "grace.hopper@riverside.example.org";
const GRACE_NAME: &str = "Grace Hopper";
const GRACE_FIRST_PASSWORD: &str = "violet harbour tractor umbrella";
const GRACE_NEW_PASSWORD: &str = "quartz meadow lantern biscuit";

// Current-thread runtime: the server's tasks run on this thread, so the subscriber set as
// this thread's default sees every event they log.
#[tokio::test(flavor = "current_thread")]
async fn logs_carry_no_personal_data_or_secrets() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = spawn_app().await;
    let mut secrets: Vec<String> = [
        ADMIN_EMAIL,
        ADMIN_NAME,
        "Lovelace",
        ADMIN_PASSWORD,
        GRACE_EMAIL,
        GRACE_NAME,
        "Hopper",
        GRACE_FIRST_PASSWORD,
        GRACE_NEW_PASSWORD,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Form encoding of the same values, in case a raw body were logged.
    for s in secrets.clone() {
        secrets.push(s.replace(' ', "+").replace('@', "%40"));
    }

    // First-run setup through the form.
    let setup = app.setup_path().await;
    secrets.push(setup.trim_start_matches("/setup/").to_string());
    app.setup_org_and_admin_at(&setup).await;

    // The admin signs in and enrols an authenticator.
    let admin = app.browser();
    let enrolled = app.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    enrolled.assert_home();
    secrets.extend(enrolled.recovery_codes.iter().cloned());
    secrets.push(admin.cookie("haven_session").unwrap());
    secrets.push(admin.cookie("haven_csrf").unwrap());
    let admin_secret = app.user(ADMIN_EMAIL).await.totp_secret.unwrap();
    secrets.push(admin_secret.to_base32());

    // Someone tries Grace's address before she exists, then gets the admin's wrong.
    let stranger = app.browser();
    let refused = stranger
        .post_form(
            "/signin",
            &[("email", GRACE_EMAIL), ("password", GRACE_FIRST_PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    stranger
        .post_form(
            "/signin",
            &[("email", ADMIN_EMAIL), ("password", GRACE_NEW_PASSWORD)],
        )
        .await;

    // The admin adds Grace, then gives her a reset link, which she uses.
    let added = admin
        .post_form(
            "/admin/users",
            &[
                ("name", GRACE_NAME),
                ("email", GRACE_EMAIL),
                ("role", "clinician"),
                ("password", GRACE_FIRST_PASSWORD),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let grace = app.user(GRACE_EMAIL).await;
    let page = admin
        .post_form(&format!("/admin/users/{}/reset-link", grace.id), &[])
        .await;
    let marker = format!("{}/reset/", app.base);
    let start = page.body.find(&marker).unwrap() + marker.len();
    let token = page.body[start..].split('<').next().unwrap().to_string();
    secrets.push(token.clone());
    let visitor = app.browser();
    let reset = format!("/reset/{token}");
    assert_eq!(visitor.get(&reset).await.status, StatusCode::OK);
    visitor
        .post_form(&reset, &[("password", GRACE_NEW_PASSWORD)])
        .await
        .assert_redirect("/signin?reset=done");
    assert_eq!(visitor.get(&reset).await.status, StatusCode::NOT_FOUND);
    let grace_browser = app.browser();
    let signed = app
        .sign_in(&grace_browser, GRACE_EMAIL, GRACE_NEW_PASSWORD)
        .await;
    signed.assert_home();
    secrets.extend(signed.recovery_codes.iter().cloned());
    assert_eq!(grace_browser.get("/account").await.status, StatusCode::OK);
    // A bad form, which echoes Grace's details back to the admin, but not to the log.
    admin
        .post_form(
            "/admin/users",
            &[
                ("name", GRACE_NAME),
                ("email", GRACE_EMAIL),
                ("role", "clinician"),
                ("password", "password1234"),
            ],
        )
        .await;

    let logs = capture.text();
    assert!(
        logs.contains("route=/signin"),
        "request lines are logged:\n{logs}"
    );
    assert!(logs.contains("route=/reset/{token}"), "{logs}");
    assert!(logs.contains("route=/setup/{token}"), "{logs}");
    assert!(logs.contains("sign-in refused"), "{logs}");
    assert!(logs.contains("{redacted}"), "{logs}");
    let lower = logs.to_lowercase();
    for secret in &secrets {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "{secret:?} is in the log:\n{logs}"
        );
    }
}
