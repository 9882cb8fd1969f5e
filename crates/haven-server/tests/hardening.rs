//! Security headers on everything, and bad requests of every kind answered with a clear 4xx
//! (never a 5xx, never a crash): malformed and oversized bodies, invalid UTF-8, garbage in
//! paths, absurdly long fields, and seeded random bytes.

mod common;

use common::*;
use haven_domain::Role;
use reqwest::StatusCode;

const FORM: &str = "application/x-www-form-urlencoded";

fn assert_security_headers(page: &Page, what: &str) {
    let csp = page.header("content-security-policy").unwrap();
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("script-src 'self'"), "{what}: {csp}");
    assert_eq!(
        page.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        page.header("referrer-policy"),
        Some("no-referrer"),
        "{what}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"), "{what}");
    // Plain HTTP: HSTS would be ignored by browsers and is not sent.
    assert!(page.header("strict-transport-security").is_none(), "{what}");
}

#[tokio::test]
async fn security_headers_on_pages_errors_and_assets() {
    let app = spawn_app().await;
    let browser = app.browser();

    let signin = browser.get("/signin").await;
    assert_eq!(signin.status, StatusCode::OK);
    assert_security_headers(&signin, "sign-in page");
    assert_eq!(signin.header("cache-control"), Some("no-store"));

    let missing = browser.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.contains("Page not found"));
    assert_security_headers(&missing, "404 page");

    let refused = browser.post_form_with("wrong", "/signin", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_security_headers(&refused, "CSRF refusal");

    let css = browser.get("/assets/haven.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_security_headers(&css, "stylesheet");
    assert_eq!(css.header("cache-control"), Some("public, max-age=3600"));

    for path in [
        "/assets/nothing.css",
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/Cargo.toml",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert_security_headers(&page, path);
    }
    let health = browser.get("/healthz").await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok")
    );
    assert_security_headers(&health, "health check");
}

#[tokio::test]
async fn no_page_has_a_script_element_or_weak_headers() {
    // The harness refuses any HTML response containing "<script"; this visits every page.
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let clinic = app.create_clinic(&admin.org, "Physiotherapy").await;
    // The admin also audits, to see the audit pages.
    let ctx = haven_server::ops::Context {
        actor: haven_domain::Actor::Staff(admin.id.clone()),
        client_addr: None,
        now: app.now(),
    };
    haven_server::ops::accounts::set_roles(
        &app.store,
        &ctx,
        &admin.org,
        &admin.id,
        haven_domain::Roles::from_iter([Role::Admin, Role::IgAuditor]),
    )
    .await
    .unwrap();
    let pages = [
        "/".to_string(),
        "/account".into(),
        "/account/password".into(),
        "/account/mfa".into(),
        "/admin/users".into(),
        format!("/admin/users/{}", admin.id),
        "/admin/clinics".into(),
        format!("/admin/clinics/{clinic}"),
        "/admin/policy".into(),
        "/audit".into(),
        "/signin".into(),
        "/signin/mfa".into(),
        "/setup/not-a-token".into(),
        "/reset/not-a-token".into(),
    ];
    for path in &pages {
        let page = browser.get(path).await;
        assert!(
            page.status == StatusCode::OK
                || page.status == StatusCode::SEE_OTHER
                || page.status == StatusCode::NOT_FOUND,
            "{path}: {}",
            page.status
        );
        if page.status == StatusCode::OK {
            assert!(page.is_html(), "{path}");
        }
        assert_security_headers(&page, path);
    }
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_a_clear_400() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let token = browser.csrf().await;
    let csrf = [("x-csrf-token", token.as_str())];

    // JSON where a form is expected.
    let page = browser
        .post_raw(
            "/admin/users",
            "application/json",
            br#"{"name":"Grace Hopper"}"#.to_vec(),
            &csrf,
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.text().contains("this page expects a form"),
        "{}",
        page.body
    );

    // No content type at all.
    let page = browser
        .post_raw("/signin", "", b"email=x".to_vec(), &csrf)
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);

    // A 1 MiB body, form-encoded and otherwise.
    for content_type in [FORM, "application/octet-stream"] {
        let mut body = format!("_csrf={token}&name=").into_bytes();
        body.resize(1024 * 1024, b'a');
        let page = browser
            .post_raw("/admin/users", content_type, body, &[])
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{content_type}");
        assert!(page.text().contains("larger than 64 KiB"), "{}", page.body);
    }
    assert_eq!(app.store.users(&admin.org).await.unwrap().len(), 1);
    assert_eq!(browser.get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn invalid_utf8_in_a_form_is_refused() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let token = browser.csrf().await;
    let csrf = [("x-csrf-token", token.as_str())];
    let bodies: [&[u8]; 3] = [
        // Percent-encoded bytes that are not UTF-8.
        b"name=Grace%FF%FEHopper&email=grace%40riverside.example.org&role=clinician\
          &password=violet+harbour+tractor+umbrella",
        // Raw bytes that are not UTF-8.
        b"name=Grace\xff\xfeHopper&email=grace%40riverside.example.org&role=clinician\
          &password=violet+harbour+tractor+umbrella",
        // A truncated multi-byte sequence in a field name.
        b"na%E2%82me=Grace+Hopper&email=grace%40riverside.example.org&role=clinician\
          &password=violet+harbour+tractor+umbrella",
    ];
    for body in bodies {
        let page = browser
            .post_raw("/admin/users", FORM, body.to_vec(), &csrf)
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
        assert!(page.text().contains("not valid UTF-8"), "{}", page.body);
    }
    assert_eq!(
        app.store.users(&admin.org).await.unwrap().len(),
        1,
        "nothing created"
    );

    // Sign-in too: the refusal names the problem.
    let visitor = app.browser();
    let token = visitor.csrf().await;
    let page = visitor
        .post_raw(
            "/signin",
            FORM,
            b"email=ada%C0%AF%40riverside.example.org&password=x".to_vec(),
            &[("x-csrf-token", &token)],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.text().contains("not valid UTF-8"), "{}", page.body);
    assert!(app.audit_of("staff.sign_in_failed").await.is_empty());
}

#[tokio::test]
async fn garbage_in_paths_is_not_found() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let unknown = "0123456789abcdef0123456789abcdef";
    let gets = [
        "/admin/users/not-an-id".to_string(),
        format!("/admin/users/{unknown}"),
        format!("/admin/users/{}", admin.id.as_str().to_uppercase()),
        "/admin/users/%00%01".into(),
        "/admin/users/%FF%FE".into(),
        format!("/admin/users/{}", "9".repeat(5000)),
        "/admin/clinics/not-an-id".into(),
        format!("/admin/clinics/{unknown}"),
        "/reset/not-a-token".into(),
        "/setup/%F0%9F%92%A9".into(),
        "/admin/users/x/y/z".into(),
    ];
    for path in &gets {
        let page = browser.get(path).await;
        assert!(page.status.is_client_error(), "{path}: {}", page.status);
    }
    assert_eq!(
        browser.get("/admin/users/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
    for path in [
        "/admin/users/not-an-id/roles".to_string(),
        format!("/admin/users/{unknown}/disable"),
        format!("/admin/users/{unknown}/reset-link"),
        "/admin/users/%FF/sessions/end".into(),
        format!("/admin/clinics/{unknown}/members"),
        format!("/admin/clinics/nope/members/{}/remove", admin.id),
        "/reset/not-a-token".into(),
    ] {
        let page = browser.post_form(&path, &[("role", "admin")]).await;
        assert!(
            page.status.is_client_error(),
            "POST {path}: {}",
            page.status
        );
    }
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn very_long_fields_are_refused_with_a_message() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let long = "x".repeat(10_000);
    let long_email = format!("{long}@riverside.example.org");
    let page = browser
        .post_form(
            "/admin/users",
            &[
                ("name", &long),
                ("email", &long_email),
                ("role", "clinician"),
                ("password", &long),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.assert_field_error("name", "name must be between 1 and 100 characters");
    page.assert_field_error("email", "at most 254 characters");
    page.assert_field_error("password", "at most 128 characters");

    let page = browser
        .post_form("/admin/clinics", &[("name", &long)])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.assert_field_error("name", "between 1 and 100 characters");

    // At sign-in, a huge address or password is simply not right.
    let page = app
        .browser()
        .post_form("/signin", &[("email", &long_email), ("password", &long)])
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.store.users(&admin.org).await.unwrap().len(), 1);
    assert!(app.store.clinics(&admin.org).await.unwrap().is_empty());
    assert_eq!(browser.get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn random_bytes_as_form_bodies_only_ever_get_4xx() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let setup = app.setup_path().await;
    let ctx = app.system();
    let reset = haven_server::ops::accounts::issue_reset_link(
        &app.store, &ctx, &app.base, &admin.org, &admin.id,
    )
    .await
    .unwrap();
    let reset = reset.strip_prefix(&app.base).unwrap().to_string();
    let endpoints = [
        "/signin".to_string(),
        "/admin/users".into(),
        "/admin/clinics".into(),
        "/admin/policy".into(),
        format!("/admin/users/{}/roles", admin.id),
        "/account/password".into(),
        "/account/mfa".into(),
        setup,
        reset.clone(),
    ];
    let token = browser.csrf().await;
    let mut rng = XorShift::new(0x4841_5645_4e21);
    for path in &endpoints {
        for round in 0..12 {
            let len = (rng.next_u64() % 1500) as usize;
            let body = rng.bytes(len);
            let content_type = if round % 3 == 2 { "text/plain" } else { FORM };
            let headers: &[(&str, &str)] = if round % 4 == 3 {
                &[]
            } else {
                &[("x-csrf-token", token.as_str())]
            };
            let page = browser.post_raw(path, content_type, body, headers).await;
            assert!(
                page.status.is_client_error(),
                "POST {path} round {round}: {}\n{}",
                page.status,
                page.body
            );
        }
    }
    // Nothing was created or spent, and the admin is still signed in.
    assert_eq!(app.store.users(&admin.org).await.unwrap().len(), 1);
    assert!(app.store.clinics(&admin.org).await.unwrap().is_empty());
    assert_eq!(browser.get(&reset).await.status, StatusCode::OK);
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn markup_typed_into_fields_is_shown_as_text() {
    // The harness fails on any "<script" in a page, so every page below proves escaping.
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let evil = "<script>alert(1)</script>\"><img src=x>";
    let user = app
        .add_user(
            &admin.org,
            "mallory@riverside.example.org",
            evil,
            &[Role::Clinician, Role::IgAuditor],
            "marble falcon prairie whistle",
        )
        .await;
    let clinic = app.create_clinic(&admin.org, evil).await;
    haven_server::ops::orgs::set_membership(
        &app.state,
        &app.system(),
        &admin.org,
        &clinic,
        &user.id,
        true,
    )
    .await
    .unwrap();
    for path in [
        "/admin/users".to_string(),
        format!("/admin/users/{}", user.id),
        "/admin/clinics".into(),
        format!("/admin/clinics/{clinic}"),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
        assert!(!page.contains("<img src=x>"), "{path}");
    }
    // The user's own pages, and the audit viewer with markup in its filters.
    let theirs = app.browser();
    app.sign_in(&theirs, &user.email, &user.password)
        .await
        .assert_home();
    let home = theirs.get("/").await;
    assert!(home.contains("Hello, &lt;script&gt;"));
    let audit = theirs
        .get("/audit?action=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&from=%3Cscript%3E")
        .await;
    assert!(
        audit.contains("value=\"&quot;&gt;&lt;script&gt;"),
        "{}",
        audit.body
    );
    // A form refused with markup in it echoes the markup back as text.
    let page = browser
        .post_form(
            "/admin/users",
            &[("name", evil), ("email", evil), ("password", "x")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(!page.contains("<img src=x>"));
}
