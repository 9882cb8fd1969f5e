//! First-run setup: the one-time link that creates the first organisation and its admin.

mod common;

use common::*;
use haven_domain::Role;
use haven_domain::time::Duration;
use reqwest::StatusCode;

#[tokio::test]
async fn setup_link_shows_the_form() {
    let app = spawn_app().await;
    let path = app.setup_path().await;
    let page = app.browser().get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("<h1>Set up Haven</h1>"), "{}", page.body);
    for field in ["organisation", "name", "email", "password"] {
        assert!(
            page.contains(&format!("name=\"{field}\"")),
            "no {field} field"
        );
    }
    assert!(!page.csrf().is_empty());
}

#[tokio::test]
async fn bad_setup_fields_get_messages_tied_to_each_field() {
    let app = spawn_app().await;
    let path = app.setup_path().await;
    let browser = app.browser();
    let form = browser.get(&path).await;

    let page = browser
        .post_form_with(
            &form.csrf(),
            &path,
            &[
                ("organisation", "   "),
                ("name", "Ada Lovelace"),
                ("email", "ada.example.org"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.assert_field_error("organisation", "Enter your organisation's name");
    page.assert_field_error("email", "exactly one '@'");
    let pw = page.assert_field_error("password", "at least 12 characters");
    assert!(
        pw.contains("passphrase of three or more random words"),
        "{pw}"
    );
    assert!(page.field_error("name").is_none(), "the name was fine");
    // The summary links to each field, and what was typed (except the password) is kept.
    assert!(page.contains("href=\"#organisation\""));
    assert!(page.contains("href=\"#email\""));
    assert!(page.contains("value=\"ada.example.org\""));
    assert!(page.contains("value=\"Ada Lovelace\""));
    assert!(
        !page.contains("value=\"short\""),
        "the password is never echoed"
    );

    // A guessable password is refused with its own reason; nothing was created.
    let page = browser
        .post_form_with(
            &form.csrf(),
            &path,
            &[
                ("organisation", ORG_NAME),
                ("name", ADMIN_NAME),
                ("email", ADMIN_EMAIL),
                ("password", "password1234"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.assert_field_error("password", "too easy to guess");
    assert!(page.field_error("organisation").is_none());

    // A name too long for any screen is refused with the limit.
    let long = "Riverside ".repeat(11);
    let page = browser
        .post_form_with(
            &form.csrf(),
            &path,
            &[
                ("organisation", &long),
                ("name", ADMIN_NAME),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.assert_field_error("organisation", "between 1 and 100 characters");
    assert_eq!(app.store.org_count().await.unwrap(), 0);
    assert!(app.audit().await.is_empty());

    // The link still works after the refusals.
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn good_setup_creates_the_org_and_admin_and_spends_the_link() {
    let app = spawn_app().await;
    let path = app.setup_path().await;
    let browser = app.browser();
    let form = browser.get(&path).await;
    let fields = [
        ("organisation", ORG_NAME),
        ("name", ADMIN_NAME),
        ("email", ADMIN_EMAIL),
        ("password", ADMIN_PASSWORD),
    ];
    let done = browser.post_form_with(&form.csrf(), &path, &fields).await;
    done.assert_redirect("/signin?setup=done");

    let notice = browser.get("/signin?setup=done").await;
    assert!(notice.contains("Your organisation is set up"));

    let admin = app.user(ADMIN_EMAIL).await;
    assert_eq!(admin.name.as_str(), ADMIN_NAME);
    assert!(admin.roles.contains(Role::Admin));
    assert!(
        !admin.must_change_password,
        "the admin chose their password"
    );
    let org = app.store.org(&admin.org_id).await.unwrap();
    assert_eq!(org.name.as_str(), ORG_NAME);
    assert!(org.policy.mfa_required, "MFA is required by default");
    let actions: Vec<_> = app.audit().await.into_iter().map(|r| r.action).collect();
    assert_eq!(actions, ["org.create", "user.create"]);

    // The same link again: refused, both to look at and to submit.
    let again = browser.get(&path).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(
        again.contains("This setup link cannot be used"),
        "{}",
        again.body
    );
    let fields2 = [
        ("organisation", "Second Health Centre"),
        ("name", "Mallory Intruder"),
        ("email", "mallory@evil.example.org"),
        ("password", "violet harbour tractor umbrella"),
    ];
    let again = browser.post_form_with(&form.csrf(), &path, &fields2).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.contains("cannot be used"));
    assert_eq!(app.store.org_count().await.unwrap(), 1);
}

#[tokio::test]
async fn setup_link_dies_after_an_hour() {
    let app = spawn_app().await;
    let path = app.setup_path().await;
    let browser = app.browser();
    let form = browser.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);

    app.advance(Duration::minutes(59));
    assert_eq!(browser.get(&path).await.status, StatusCode::OK);

    app.advance(Duration::minutes(1));
    let dead = browser.get(&path).await;
    assert_eq!(dead.status, StatusCode::NOT_FOUND);
    assert!(dead.contains("cannot be used"));
    let fields = [
        ("organisation", ORG_NAME),
        ("name", ADMIN_NAME),
        ("email", ADMIN_EMAIL),
        ("password", ADMIN_PASSWORD),
    ];
    let dead = browser.post_form_with(&form.csrf(), &path, &fields).await;
    assert_eq!(dead.status, StatusCode::NOT_FOUND);
    assert_eq!(app.store.org_count().await.unwrap(), 0);
}

#[tokio::test]
async fn a_setup_link_cannot_create_a_second_organisation() {
    let app = spawn_app().await;
    app.setup_org_and_admin().await;
    // A new link (for example after a restart) is refused once an organisation exists.
    let path = app.setup_path().await;
    let browser = app.browser();
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.contains("cannot be used"));
    let token = browser.csrf().await;
    let fields = [
        ("organisation", "Second Health Centre"),
        ("name", "Mallory Intruder"),
        ("email", "mallory@evil.example.org"),
        ("password", "violet harbour tractor umbrella"),
    ];
    let page = browser.post_form_with(&token, &path, &fields).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(app.store.org_count().await.unwrap(), 1);
    let mallory = haven_domain::Email::parse("mallory@evil.example.org").unwrap();
    assert!(app.store.user_by_email(&mallory).await.unwrap().is_none());
}

#[tokio::test]
async fn two_setup_links_used_at_once_create_one_organisation() {
    let app = spawn_app().await;
    let (first, second) = (app.setup_path().await, app.setup_path().await);
    let (a, b) = (app.browser(), app.browser());
    let (form_a, form_b) = (a.get(&first).await, b.get(&second).await);
    assert_eq!(
        (form_a.status, form_b.status),
        (StatusCode::OK, StatusCode::OK)
    );
    let fields_a = [
        ("organisation", ORG_NAME),
        ("name", ADMIN_NAME),
        ("email", ADMIN_EMAIL),
        ("password", ADMIN_PASSWORD),
    ];
    let fields_b = [
        ("organisation", "Hilltop Surgery"),
        ("name", "Edith Cavell"),
        ("email", "edith.cavell@hilltop.example.org"),
        ("password", "marble falcon prairie whistle"),
    ];
    let (token_a, token_b) = (form_a.csrf(), form_b.csrf());
    let (done_a, done_b) = tokio::join!(
        a.post_form_with(&token_a, &first, &fields_a),
        b.post_form_with(&token_b, &second, &fields_b),
    );
    let mut statuses = [done_a.status, done_b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::NOT_FOUND]);
    assert_eq!(app.store.org_count().await.unwrap(), 1);
    assert_eq!(app.audit_of("org.create").await.len(), 1);
}
