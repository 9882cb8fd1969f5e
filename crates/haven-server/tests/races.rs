//! Things that must happen once happen once, even when two requests race for them, and
//! the audit chain never forks under concurrent changes.

mod common;

use common::*;
use haven_domain::Role;
use haven_domain::time::Duration;
use reqwest::StatusCode;

async fn statuses(handles: Vec<tokio::task::JoinHandle<Page>>) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("the request task finishes").status);
    }
    out.sort();
    out
}

#[tokio::test]
async fn a_reset_link_used_twice_at_once_works_once() {
    let app = spawn_app().await;
    let admin = app.setup_org_and_admin().await;
    let ctx = app.system();
    let link = haven_server::ops::accounts::issue_reset_link(
        &app.store, &ctx, &app.base, &admin.org, &admin.id,
    )
    .await
    .unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_string();
    let (a, b) = (app.browser(), app.browser());
    let (ta, tb) = (a.csrf().await, b.csrf().await);
    let handles = vec![
        a.spawn_post_form(&ta, &path, &[("password", "quartz meadow lantern biscuit")]),
        b.spawn_post_form(&tb, &path, &[("password", "marble falcon prairie whistle")]),
    ];
    assert_eq!(
        statuses(handles).await,
        [StatusCode::SEE_OTHER, StatusCode::NOT_FOUND]
    );
    assert_eq!(app.audit_of("user.password_reset").await.len(), 1);
    app.verify_chain().await;
}

#[tokio::test]
async fn one_authenticator_code_sent_twice_at_once_signs_in_once() {
    let app = spawn_app().await;
    let (admin, _) = app.signed_in_admin().await;
    app.advance(Duration::seconds(30));
    let browsers = [app.browser(), app.browser()];
    let mut tokens = Vec::new();
    for b in &browsers {
        b.post_form(
            "/signin",
            &[("email", &admin.email), ("password", &admin.password)],
        )
        .await
        .assert_redirect("/signin/mfa");
        tokens.push(b.csrf().await);
    }
    let code = app.next_code(&admin.email).await;
    let handles = browsers
        .iter()
        .zip(&tokens)
        .map(|(b, t)| b.spawn_post_form(t, "/signin/mfa", &[("code", &code)]))
        .collect();
    assert_eq!(
        statuses(handles).await,
        [StatusCode::SEE_OTHER, StatusCode::UNAUTHORIZED]
    );
    let signed_in = app.audit_of("staff.sign_in").await;
    assert_eq!(
        signed_in.len(),
        2,
        "the enrolment, then exactly one of the two"
    );
}

#[tokio::test]
async fn concurrent_changes_keep_one_unbroken_audit_chain() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
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
    let nurse_browser = app.browser();
    app.sign_in(&nurse_browser, &nurse.email, &nurse.password)
        .await
        .assert_home();
    let token = browser.csrf().await;
    let nurse_token = nurse_browser.csrf().await;
    let names: Vec<String> = (0..8).map(|i| format!("Clinic number {i}")).collect();
    let mut handles: Vec<_> = names
        .iter()
        .map(|n| browser.spawn_post_form(&token, "/admin/clinics", &[("name", n)]))
        .collect();
    let roles = format!("/admin/users/{}/roles", nurse.id);
    handles.push(browser.spawn_post_form(&token, &roles, &[("role", "receptionist")]));
    handles.push(nurse_browser.spawn_post_form(&nurse_token, "/signout", &[]));
    handles.push(browser.spawn_post_form(&token, "/admin/clinics", &[("name", "Clinic number 0")]));
    let got = statuses(handles).await;
    assert_eq!(
        got.iter().filter(|s| **s == StatusCode::SEE_OTHER).count(),
        10
    );
    assert_eq!(
        got.iter()
            .filter(|s| **s == StatusCode::BAD_REQUEST)
            .count(),
        1,
        "one duplicate clinic name: {got:?}"
    );
    assert_eq!(app.store.clinics(&admin.org).await.unwrap().len(), 8);
    assert_eq!(app.audit_of("clinic.create").await.len(), 8);
    let entries = app.verify_chain().await;
    assert_eq!(entries as usize, app.audit().await.len());
}
