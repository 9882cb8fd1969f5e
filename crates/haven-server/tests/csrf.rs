//! CSRF: a state-changing request without a matching token and cookie is refused with a
//! plain explanation and changes nothing.

mod common;

use common::*;
use reqwest::StatusCode;

const NEW_USER: [(&str, &str); 4] = [
    ("name", "Grace Hopper"),
    ("email", "grace.hopper@riverside.example.org"),
    ("role", "clinician"),
    ("password", "violet harbour tractor umbrella"),
];

fn assert_csrf_refusal(page: &Page) {
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.contains("This form has expired"), "{}", page.body);
    assert!(
        page.text()
            .contains("Go back, reload the page and try again.")
    );
}

async fn user_count(app: &TestApp, admin: &Account) -> usize {
    app.store.users(&admin.org).await.unwrap().len()
}

#[tokio::test]
async fn posts_without_a_valid_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let url = browser.url("/admin/users");

    // No token at all.
    let page = browser
        .send(browser.client.post(url.clone()).form(&NEW_USER))
        .await;
    assert_csrf_refusal(&page);

    // A made-up token.
    let page = browser
        .post_form_with(&"A".repeat(43), "/admin/users", &NEW_USER)
        .await;
    assert_csrf_refusal(&page);

    // Another browser's real token.
    let other = app.browser().csrf().await;
    let page = browser
        .post_form_with(&other, "/admin/users", &NEW_USER)
        .await;
    assert_csrf_refusal(&page);

    // The right token, but sent without the CSRF cookie (only the session cookie), as a
    // request forged from another site that somehow learnt the token would be.
    let token = browser.csrf().await;
    let forged = Browser::with_cookie(&app.base, &browser.session_cookie());
    assert!(forged.cookie("haven_csrf").is_none());
    let page = forged
        .post_form_with(&token, "/admin/users", &NEW_USER)
        .await;
    assert_csrf_refusal(&page);

    assert_eq!(user_count(&app, &admin).await, 1, "no user was created");
    assert!(
        app.audit_of("user.create").await.len() == 1,
        "only the admin"
    );

    // Sign-out is protected too: a forged sign-out leaves the session alone.
    let page = browser
        .post_form_with(&"B".repeat(43), "/signout", &[])
        .await;
    assert_csrf_refusal(&page);
    assert_eq!(browser.get("/").await.status, StatusCode::OK);

    // The same form with the page's own token works.
    let page = browser.post_form("/admin/users", &NEW_USER).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(user_count(&app, &admin).await, 2);
}

#[tokio::test]
async fn sign_in_itself_needs_a_token() {
    let app = spawn_app().await;
    let admin = app.setup_org_and_admin().await;
    let browser = app.browser();
    let url = browser.url("/signin");
    let fields = [
        ("email", admin.email.as_str()),
        ("password", &admin.password),
    ];
    let page = browser.send(browser.client.post(url).form(&fields)).await;
    assert_csrf_refusal(&page);
    assert!(
        page.set_cookies()
            .iter()
            .all(|c| !c.starts_with("haven_session="))
    );
    assert!(app.audit_of("staff.password_accepted").await.is_empty());
}

#[tokio::test]
async fn the_token_header_works_in_place_of_the_form_field() {
    let app = spawn_app().await;
    let (admin, browser) = app.signed_in_admin().await;
    let token = browser.csrf().await;
    let body = reqwest::Url::parse_with_params("http://x/", NEW_USER)
        .unwrap()
        .query()
        .unwrap()
        .as_bytes()
        .to_vec();

    // A wrong header is refused, even though nothing else is there to check.
    let page = browser
        .post_raw(
            "/admin/users",
            "application/x-www-form-urlencoded",
            body.clone(),
            &[("x-csrf-token", &"C".repeat(43))],
        )
        .await;
    assert_csrf_refusal(&page);
    assert_eq!(user_count(&app, &admin).await, 1);

    let page = browser
        .post_raw(
            "/admin/users",
            "application/x-www-form-urlencoded",
            body,
            &[("x-csrf-token", &token)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(user_count(&app, &admin).await, 2);
}

#[tokio::test]
async fn sign_in_and_sign_out_replace_the_token() {
    let app = spawn_app().await;
    let admin = app.setup_org_and_admin().await;
    let browser = app.browser();
    let before = browser.csrf().await;
    app.sign_in(&browser, &admin.email, &admin.password)
        .await
        .assert_home();
    let during = browser.csrf().await;
    assert_ne!(
        before, during,
        "a token planted before sign-in is worthless after"
    );

    // The token from before sign-in no longer works.
    let page = browser.post_form_with(&before, "/signout", &[]).await;
    assert_csrf_refusal(&page);

    browser
        .post_form_with(&during, "/signout", &[])
        .await
        .assert_redirect("/signin");
    assert_ne!(browser.csrf().await, during);
}
