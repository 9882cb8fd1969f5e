//! Least privilege: each role reaches only its own pages, and a refusal says why.

mod common;

use common::*;
use haven_domain::Role;
use reqwest::StatusCode;

fn assert_forbidden(page: &Page, path: &str) {
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
    assert!(page.contains("Your role does not allow this."), "{path}");
}

#[tokio::test]
async fn a_clinician_cannot_reach_administration_or_the_audit_log() {
    let app = spawn_app().await;
    let admin = app.setup_org_and_admin().await;
    app.set_mfa_required(&admin.org, false).await;
    let clinic = app.create_clinic(&admin.org, "Riverside Diabetes").await;
    let clinician = app
        .add_user(
            &admin.org,
            "john.snow@riverside.example.org",
            "John Snow",
            &[Role::Clinician],
            "marble falcon prairie whistle",
        )
        .await;
    let browser = app.browser();
    app.sign_in(&browser, &clinician.email, &clinician.password)
        .await
        .assert_home();

    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(!home.contains("href=\"/admin/users\"") && !home.contains("href=\"/audit\""));

    let user_page = format!("/admin/users/{}", admin.id);
    let clinic_page = format!("/admin/clinics/{clinic}");
    for path in [
        "/admin/users",
        "/admin/policy",
        "/admin/clinics",
        "/audit",
        "/audit.csv",
        user_page.as_str(),
        clinic_page.as_str(),
    ] {
        assert_forbidden(&browser.get(path).await, path);
    }

    let posts: [(String, Vec<(&str, &str)>); 5] = [
        (
            "/admin/users".into(),
            vec![
                ("name", "Sneaky Friend"),
                ("email", "friend@riverside.example.org"),
                ("role", "admin"),
                ("password", "violet harbour tractor umbrella"),
            ],
        ),
        (
            format!("/admin/users/{}/roles", clinician.id),
            vec![("role", "admin")],
        ),
        (format!("/admin/users/{}/disable", admin.id), vec![]),
        (
            "/admin/policy".into(),
            vec![
                ("invite_lifetime", "appointment_day"),
                ("identity_check", "name_dob"),
                ("consultation_limit", "90"),
                ("recording_allowed", "on"),
            ],
        ),
        (format!("{clinic_page}/members"), vec![("user", "")]),
    ];
    for (path, fields) in &posts {
        assert_forbidden(&browser.post_form(path, fields).await, path);
    }
    let users = app.store.users(&admin.org).await.unwrap();
    assert_eq!(users.len(), 2);
    assert!(users.iter().all(|u| !u.disabled));
    assert_eq!(
        app.user(&clinician.email).await.roles.to_list(),
        "clinician"
    );
    assert!(
        !app.store
            .org(&admin.org)
            .await
            .unwrap()
            .policy
            .recording_allowed
    );
    assert!(app.audit_of("user.roles_change").await.is_empty());
}

#[tokio::test]
async fn an_ig_auditor_sees_the_audit_log_but_not_administration() {
    let app = spawn_app().await;
    let admin = app.setup_org_and_admin().await;
    let auditor = app
        .add_user(
            &admin.org,
            "ig.lead@riverside.example.org",
            "Ira Governance",
            &[Role::IgAuditor],
            "quartz meadow lantern biscuit",
        )
        .await;
    let browser = app.browser();
    app.sign_in(&browser, &auditor.email, &auditor.password)
        .await
        .assert_home();

    let home = browser.get("/").await;
    assert!(home.contains("href=\"/audit\""));
    assert!(!home.contains("href=\"/admin/users\""));
    assert_eq!(browser.get("/audit").await.status, StatusCode::OK);
    assert_eq!(browser.get("/audit.csv").await.status, StatusCode::OK);
    for path in ["/admin/users", "/admin/policy", "/admin/clinics"] {
        assert_forbidden(&browser.get(path).await, path);
    }
}

#[tokio::test]
async fn an_admin_without_the_auditor_role_cannot_read_the_audit_log() {
    let app = spawn_app().await;
    let (_, browser) = app.signed_in_admin().await;
    assert_forbidden(&browser.get("/audit").await, "/audit");
    assert_forbidden(&browser.get("/audit.csv").await, "/audit.csv");
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in() {
    let app = spawn_app().await;
    app.setup_org_and_admin().await;
    let browser = app.browser();
    for path in [
        "/",
        "/account",
        "/admin/users",
        "/admin/policy",
        "/audit",
        "/audit.csv",
    ] {
        browser.get(path).await.assert_redirect("/signin");
    }
    let page = browser
        .post_form("/admin/users", &[("name", "Nobody")])
        .await;
    page.assert_redirect("/signin");
}

#[tokio::test]
async fn a_role_change_applies_to_open_sessions_at_once() {
    let app = spawn_app().await;
    let (admin, admin_browser) = app.signed_in_admin().await;
    let deputy = app
        .add_user(
            &admin.org,
            "deputy@riverside.example.org",
            "Dora Deputy",
            &[Role::Admin, Role::Clinician],
            "marble falcon prairie whistle",
        )
        .await;
    let browser = app.browser();
    app.sign_in(&browser, &deputy.email, &deputy.password)
        .await
        .assert_home();
    assert_eq!(browser.get("/admin/users").await.status, StatusCode::OK);

    admin_browser
        .post_form(
            &format!("/admin/users/{}/roles", deputy.id),
            &[("role", "clinician")],
        )
        .await
        .assert_redirect(&format!("/admin/users/{}", deputy.id));
    assert_forbidden(&browser.get("/admin/users").await, "/admin/users");
    let page = browser
        .post_form(
            &format!("/admin/users/{}/roles", admin.id),
            &[("role", "clinician")],
        )
        .await;
    assert_forbidden(&page, "roles");
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
}
