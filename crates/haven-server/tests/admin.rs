//! Administration through the pages, and the audit entry each change leaves.

mod common;

use common::*;
use haven_domain::Role;
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
async fn adding_users_and_changing_roles_is_audited() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let grace = add_grace(&app, &browser).await;

    let created = app.audit_of("user.create").await.pop().unwrap();
    assert_eq!(created.object, format!("user:{grace}"));
    assert_eq!(created.detail, "roles: clinician");
    assert_eq!(created.actor.id(), Some(admin.id.as_str()));
    assert_eq!(created.org_id.as_ref(), Some(&admin.org));

    let list = browser.get("/admin/users").await;
    assert!(list.contains("Grace Hopper") && list.contains(GRACE_EMAIL));

    // The same address again is refused on the email field.
    let again = browser
        .post_form(
            "/admin/users",
            &[
                ("name", "Grace Again"),
                ("email", "Grace.Hopper@riverside.example.org"),
                ("role", "receptionist"),
                ("password", "marble falcon prairie whistle"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    again.assert_field_error("email", "already exists");
    // No role at all is refused on the roles group.
    let none = browser
        .post_form(
            "/admin/users",
            &[
                ("name", "Nobody Special"),
                ("email", "nobody@riverside.example.org"),
                ("password", "marble falcon prairie whistle"),
            ],
        )
        .await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    none.assert_field_error("roles", "choose at least one role");
    assert_eq!(app.store.users(&admin.org).await.unwrap().len(), 2);

    let page = browser.get(&format!("/admin/users/{grace}")).await;
    let roles_path = format!("/admin/users/{grace}/roles");
    browser
        .post_form_with(
            &page.csrf(),
            &roles_path,
            &[("role", "clinician"), ("role", "receptionist")],
        )
        .await
        .assert_redirect(&format!("/admin/users/{grace}"));
    let changed = app.audit_of("user.roles_change").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].object, format!("user:{grace}"));
    assert_eq!(
        changed[0].detail,
        "roles: clinician -> clinician,receptionist"
    );

    // Saving the same roles changes nothing and records nothing.
    browser
        .post_form(
            &roles_path,
            &[("role", "receptionist"), ("role", "clinician")],
        )
        .await
        .assert_redirect(&format!("/admin/users/{grace}"));
    assert_eq!(app.audit_of("user.roles_change").await.len(), 1);

    // Unknown roles and an admin removing their own admin role are refused on the field.
    let bad = browser
        .post_form(&roles_path, &[("role", "superuser")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    bad.assert_field_error("roles", "unknown role 'superuser'");
    let own = browser
        .post_form(
            &format!("/admin/users/{}/roles", admin.id),
            &[("role", "clinician")],
        )
        .await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST);
    own.assert_field_error("roles", "you cannot remove your own admin role");
    assert!(app.user(&admin.email).await.roles.contains(Role::Admin));
}

#[tokio::test]
async fn clinics_and_membership_are_audited() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let page = browser.get("/admin/clinics").await;
    assert!(page.contains("There are no clinics yet."));
    let created = browser
        .post_form_with(&page.csrf(), "/admin/clinics", &[("name", "Physiotherapy")])
        .await;
    let clinic = app.store.clinics(&admin.org).await.unwrap().pop().unwrap();
    created.assert_redirect(&format!("/admin/clinics/{}", clinic.id));
    let entry = app.audit_of("clinic.create").await.pop().unwrap();
    assert_eq!(entry.object, format!("clinic:{}", clinic.id));

    let dup = browser
        .post_form("/admin/clinics", &[("name", "Physiotherapy")])
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    dup.assert_field_error("name", "A clinic with this name already exists");
    let empty = browser.post_form("/admin/clinics", &[("name", " ")]).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    empty.assert_field_error("name", "clinic name must be between 1 and 100 characters");

    let path = format!("/admin/clinics/{}", clinic.id);
    let page = browser.get(&path).await;
    assert!(page.contains("No members yet."));
    browser
        .post_form_with(
            &page.csrf(),
            &format!("{path}/members"),
            &[("user", admin.id.as_str())],
        )
        .await
        .assert_redirect(&path);
    let entry = app.audit_of("clinic.member_add").await.pop().unwrap();
    assert_eq!(entry.object, format!("clinic:{}", clinic.id));
    assert_eq!(entry.detail, format!("user:{}", admin.id));
    let home = browser.get("/").await;
    assert!(
        home.contains("<li>Physiotherapy")
            && home.contains(&format!("/clinics/{}/waiting", clinic.id)),
        "the admin's clinics, with their waiting rooms: {}",
        home.body
    );

    browser
        .post_form(&format!("{path}/members/{}/remove", admin.id), &[])
        .await
        .assert_redirect(&path);
    assert_eq!(app.audit_of("clinic.member_remove").await.len(), 1);
    assert!(
        app.store
            .clinic_members(&admin.org, &clinic.id)
            .await
            .unwrap()
            .is_empty()
    );
    // A member that is not a user id at all.
    let bad = browser
        .post_form(&format!("{path}/members"), &[("user", "nobody")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("choose a staff member"));
}

#[tokio::test]
async fn policy_changes_name_each_changed_field() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let page = browser.get("/admin/policy").await;
    let saved = browser
        .post_form_with(
            &page.csrf(),
            "/admin/policy",
            &[
                ("mfa_required", "on"),
                ("recording_allowed", "on"),
                ("invite_lifetime", "hours"),
                ("hours", "48"),
                ("identity_check", "name_dob"),
                ("consultation_limit", "90"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    assert!(saved.contains("Policy saved."));
    let policy = app.store.org(&admin.org).await.unwrap().policy;
    assert!(policy.mfa_required && policy.recording_allowed);
    let entries = app.audit_of("org.policy_change").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].detail,
        "recording_allowed: false -> true; invite_lifetime: appointment_day -> hours:48"
    );
    assert_eq!(entries[0].object, format!("org:{}", admin.org));

    // Bad hours are named on their field and nothing changes.
    for hours in ["0", "169", "two days", ""] {
        let bad = browser
            .post_form(
                "/admin/policy",
                &[
                    ("mfa_required", "on"),
                    ("invite_lifetime", "hours"),
                    ("hours", hours),
                    ("identity_check", "name_dob_sms"),
                    ("consultation_limit", "90"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{hours:?}");
        bad.assert_field_error("hours", "Enter a whole number of hours from 1 to 168");
    }
    assert_eq!(app.audit_of("org.policy_change").await.len(), 1);
    assert_eq!(app.store.org(&admin.org).await.unwrap().policy, policy);
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_and_enabling_restores_sign_in() {
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
    let browser = app.browser();
    app.sign_in(&browser, &nurse.email, &nurse.password)
        .await
        .assert_home();

    let base = format!("/admin/users/{}", nurse.id);
    admin_browser
        .post_form(&format!("{base}/disable"), &[])
        .await
        .assert_redirect(&base);
    browser.get("/").await.assert_redirect("/signin");
    let refused = app
        .sign_in(&app.browser(), &nurse.email, &nurse.password)
        .await;
    assert_eq!(refused.last.status, StatusCode::UNAUTHORIZED);
    assert!(admin_browser.get(&base).await.contains("Enable account"));

    admin_browser
        .post_form(&format!("{base}/enable"), &[])
        .await
        .assert_redirect(&base);
    app.sign_in(&app.browser(), &nurse.email, &nurse.password)
        .await
        .assert_home();
    let actions: Vec<_> = app
        .audit()
        .await
        .into_iter()
        .filter(|r| r.object == format!("user:{}", nurse.id))
        .map(|r| r.action)
        .filter(|a| a.starts_with("user."))
        .collect();
    assert_eq!(actions, ["user.create", "user.disable", "user.enable"]);

    // An admin cannot lock themselves out.
    let own = admin_browser
        .post_form(&format!("/admin/users/{}/disable", admin.id), &[])
        .await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST);
    assert!(own.text().contains("you cannot disable your own account"));
    assert!(!app.user(&admin.email).await.disabled);
}

#[tokio::test]
async fn an_admin_can_reset_a_users_two_step_sign_in() {
    let app = spawn_app().await;
    let (admin, admin_browser) = app.signed_in_admin().await;
    let nurse = app
        .add_user(
            &admin.org,
            "mary.seacole@riverside.example.org",
            "Mary Seacole",
            &[Role::Clinician],
            "marble falcon prairie whistle",
        )
        .await;
    let browser = app.browser();
    app.sign_in(&browser, &nurse.email, &nurse.password)
        .await
        .assert_home();
    assert!(app.user(&nurse.email).await.totp_secret.is_some());

    let page = admin_browser
        .get(&format!("/admin/users/{}", nurse.id))
        .await;
    assert!(page.contains("Reset two-step sign-in"));
    let done = admin_browser
        .post_form_with(
            &page.csrf(),
            &format!("/admin/users/{}/mfa/reset", nurse.id),
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.contains("sets it up again at their next sign-in"));
    assert!(app.user(&nurse.email).await.totp_secret.is_none());
    assert_eq!(app.audit_of("user.mfa_reset").await.len(), 1);

    // Signed out, and asked to enrol again at the next sign-in.
    browser.get("/").await.assert_redirect("/signin");
    let again = app.sign_in(&browser, &nurse.email, &nurse.password).await;
    assert_eq!(again.recovery_codes.len(), 10);
}
