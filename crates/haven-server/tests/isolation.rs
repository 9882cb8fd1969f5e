//! Organisations are sealed from each other: an admin or auditor of one sees and changes
//! nothing of another, and the answer is the same 404 as for something that does not exist.

mod common;

use common::*;
use haven_domain::time::Duration;
use haven_domain::{ClinicId, OrgId, Role};
use haven_server::ops;
use reqwest::StatusCode;

/// Org B: an admin (signed in, so B has sessions and sign-in entries), a clinician and a
/// clinic with the clinician in it.
struct OrgB {
    org: OrgId,
    admin: Account,
    clinician: Account,
    clinic: ClinicId,
    admin_browser: Browser,
}

async fn org_b(app: &TestApp) -> OrgB {
    let org = app.create_org("Hilltop Surgery").await;
    let admin = app
        .add_user(
            &org,
            "edith.cavell@hilltop.example.org",
            "Edith Cavell",
            &[Role::Admin, Role::IgAuditor],
            "marble falcon prairie whistle",
        )
        .await;
    let clinician = app
        .add_user(
            &org,
            "elsie.inglis@hilltop.example.org",
            "Elsie Inglis",
            &[Role::Clinician],
            "quartz meadow lantern biscuit",
        )
        .await;
    let clinic = app.create_clinic(&org, "Hilltop Physiotherapy").await;
    ops::orgs::set_membership(
        &app.state,
        &app.system(),
        &org,
        &clinic,
        &clinician.id,
        true,
    )
    .await
    .unwrap();
    let admin_browser = app.browser();
    app.sign_in(&admin_browser, &admin.email, &admin.password)
        .await
        .assert_home();
    OrgB {
        org,
        admin,
        clinician,
        clinic,
        admin_browser,
    }
}

/// Everything about org B that A's admin might try to change.
async fn snapshot(app: &TestApp, b: &OrgB) -> String {
    let users = app.store.users(&b.org).await.unwrap();
    let members = app.store.clinic_members(&b.org, &b.clinic).await.unwrap();
    let entries = app
        .audit()
        .await
        .into_iter()
        .filter(|r| r.org_id.as_ref() == Some(&b.org))
        .count();
    let users: Vec<_> = users
        .iter()
        .map(|u| {
            (
                u.id.to_string(),
                u.roles.to_list(),
                u.disabled,
                u.totp_secret.is_some(),
                u.password_hash.as_ref().map(|h| h.as_str().to_string()),
            )
        })
        .collect();
    format!("{users:?} {members:?} {entries}")
}

#[tokio::test]
async fn an_admin_cannot_see_or_change_another_organisations_users_or_clinics() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let a_clinic = app.create_clinic(&admin.org, "Riverside Diabetes").await;
    let b = org_b(&app).await;
    let before = snapshot(&app, &b).await;

    for user in [&b.admin, &b.clinician] {
        let page = browser.get(&format!("/admin/users/{}", user.id)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(!page.contains(&user.name) && !page.contains(&user.email));
    }
    let page = browser.get(&format!("/admin/clinics/{}", b.clinic)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.contains("Hilltop"));

    let user = |id: &haven_domain::UserId, action: &str| format!("/admin/users/{id}/{action}");
    let mut posts: Vec<(String, Vec<(&str, String)>)> = Vec::new();
    for u in [&b.admin, &b.clinician] {
        posts.push((user(&u.id, "roles"), vec![("role", "admin".into())]));
        posts.push((user(&u.id, "disable"), vec![]));
        posts.push((user(&u.id, "enable"), vec![]));
        posts.push((user(&u.id, "reset-link"), vec![]));
        posts.push((user(&u.id, "sessions/end"), vec![]));
        posts.push((user(&u.id, "mfa/reset"), vec![]));
    }
    let b_members = format!("/admin/clinics/{}/members", b.clinic);
    let a_members = format!("/admin/clinics/{a_clinic}/members");
    posts.push((b_members.clone(), vec![("user", admin.id.to_string())]));
    posts.push((b_members.clone(), vec![("user", b.admin.id.to_string())]));
    posts.push((
        a_members.clone(),
        vec![("user", b.clinician.id.to_string())],
    ));
    posts.push((format!("{b_members}/{}/remove", b.clinician.id), vec![]));
    posts.push((format!("{a_members}/{}/remove", b.clinician.id), vec![]));

    for (path, fields) in &posts {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = browser.post_form(path, &fields).await;
        assert_eq!(
            page.status,
            StatusCode::NOT_FOUND,
            "POST {path}: {}",
            page.body
        );
        assert!(page.contains("This page does not exist, or you do not have access to it."));
    }

    assert_eq!(snapshot(&app, &b).await, before, "nothing in org B changed");
    assert!(
        app.store
            .clinic_members(&admin.org, &a_clinic)
            .await
            .unwrap()
            .is_empty()
    );
    // B's admin is still signed in (no session was ended, no MFA reset).
    assert_eq!(b.admin_browser.get("/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn lists_show_only_the_own_organisation() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let a_clinic = app.create_clinic(&admin.org, "Riverside Diabetes").await;
    let b = org_b(&app).await;

    let pages = [
        browser.get("/admin/users").await,
        browser.get("/admin/clinics").await,
        browser.get(&format!("/admin/clinics/{a_clinic}")).await,
        browser.get("/").await,
    ];
    for page in &pages {
        assert_eq!(page.status, StatusCode::OK);
        for text in [
            b.admin.name.as_str(),
            &b.admin.email,
            &b.clinician.name,
            &b.clinician.email,
            &b.admin.id.to_string(),
            &b.clinician.id.to_string(),
            "Hilltop",
        ] {
            assert!(!page.contains(text), "{text} leaked:\n{}", page.body);
        }
    }
    assert!(pages[0].contains(ADMIN_EMAIL));
    // The clinic's "add a member" list offers A's own admin only.
    assert!(pages[2].contains(&format!("option value=\"{}\"", admin.id)));
}

#[tokio::test]
async fn an_auditor_sees_only_the_own_organisations_audit_entries() {
    let app = spawn_app().await;
    let (admin, _) = app.signed_in_admin().await;
    let auditor = app
        .add_user(
            &admin.org,
            "ig.lead@riverside.example.org",
            "Ira Governance",
            &[Role::IgAuditor],
            "quartz meadow lantern biscuit",
        )
        .await;
    let b = org_b(&app).await;
    // Something for B's entries that matches A's filters exactly (same action, same day).
    app.advance(Duration::minutes(1));
    let failed = app.browser();
    failed
        .post_form(
            "/signin",
            &[
                ("email", &b.clinician.email),
                ("password", "not my password at all"),
            ],
        )
        .await;
    let b_entries: Vec<_> = app
        .audit()
        .await
        .into_iter()
        .filter(|r| r.org_id.as_ref() == Some(&b.org))
        .collect();
    assert!(b_entries.len() >= 6, "B has entries to leak");

    let browser = app.browser();
    app.sign_in(&browser, &auditor.email, &auditor.password)
        .await
        .assert_home();
    let b_ids = [
        b.org.to_string(),
        b.admin.id.to_string(),
        b.clinician.id.to_string(),
        b.clinic.to_string(),
    ];
    let queries = [
        String::new(),
        "?action=staff.sign_in".to_string(),
        "?from=2026-03-01&to=2026-03-03".to_string(),
        format!("?actor={}", b.admin.id),
    ];
    for query in &queries {
        let view = browser.get(&format!("/audit{query}")).await;
        assert_eq!(view.status, StatusCode::OK);
        let csv = browser.get(&format!("/audit.csv{query}")).await;
        assert_eq!(csv.status, StatusCode::OK);
        for page in [&view, &csv] {
            // The viewer repeats the filter it was given in its CSV link; that is no leak.
            let body = page.body.replace(&format!("actor={}", b.admin.id), "");
            for id in &b_ids {
                assert!(!body.contains(id), "{id} leaked for {query:?}:\n{body}");
            }
            for text in [&b.admin.name, &b.clinician.name, &b.admin.email] {
                assert!(!page.contains(text.as_str()), "{text} leaked");
            }
        }
        // Rows are identified by their own hash (the last column). B's hashes may appear as
        // an A row's previous hash: the chain is one for the whole server.
        let own_hashes: Vec<&str> = csv
            .body
            .lines()
            .skip(1)
            .filter_map(|row| row.rsplit(',').next())
            .collect();
        for entry in &b_entries {
            assert!(
                !own_hashes.contains(&entry.hash.as_str()),
                "B's entry {} leaked",
                entry.seq
            );
        }
    }
    // Filtering by B's admin finds nothing at all.
    let csv = browser
        .get(&format!("/audit.csv?actor={}", b.admin.id))
        .await;
    assert_eq!(
        csv.body.lines().count(),
        1,
        "only the header:\n{}",
        csv.body
    );
    // While A's own entries are there.
    let csv = browser.get("/audit.csv").await;
    assert!(csv.contains(&format!("user:{}", admin.id)));
}
