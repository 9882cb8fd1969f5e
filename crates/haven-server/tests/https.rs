//! Behind a TLS proxy: cookies become `Secure` with the `__Host-` prefix and HSTS is sent
//! when the public address is HTTPS, and `X-Forwarded-*` headers count only from a
//! trusted proxy.

mod common;

use common::*;
use haven_server::TrustedProxies;
use reqwest::StatusCode;

/// A client without a cookie jar: these tests read and send cookies by hand, because a
/// jar rightly refuses `Secure` cookies over the plain HTTP the test server speaks.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `name=value` part of the Set-Cookie for `name`, and the whole header.
fn set_cookie(page: &Page, name: &str) -> (String, String) {
    let header = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", page.set_cookies()))
        .to_string();
    let pair = header.split(';').next().unwrap().to_string();
    (pair, header)
}

fn assert_secure(header: &str) {
    let attrs: Vec<&str> = header.split(';').map(str::trim).collect();
    for wanted in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attrs.contains(&wanted), "{wanted} missing: {header}");
    }
    assert!(
        !header.contains("Domain="),
        "__Host- cookies carry no domain"
    );
}

#[tokio::test]
async fn an_https_public_address_makes_cookies_secure() {
    let app = spawn_app_with(|c| c.public_url = "https://haven.example.org".into()).await;
    let admin = app.setup_org_and_admin().await;
    let client = bare_client();
    let url = |p: &str| format!("{}{p}", app.base);

    let page = fetch(client.get(url("/signin"))).await;
    assert!(
        page.header("strict-transport-security")
            .is_some_and(|h| h.starts_with("max-age=")),
        "HSTS under HTTPS"
    );
    let (csrf, header) = set_cookie(&page, "__Host-haven_csrf");
    assert_secure(&header);
    let token = csrf.split_once('=').unwrap().1.to_string();

    let page = fetch(client.post(url("/signin")).header("cookie", &csrf).form(&[
        ("_csrf", token.as_str()),
        ("email", &admin.email),
        ("password", &admin.password),
    ]))
    .await;
    page.assert_redirect("/account/mfa");
    let (session, header) = set_cookie(&page, "__Host-haven_session");
    assert_secure(&header);

    // The session works under its prefixed name, and the plain name means nothing.
    let enrol = fetch(client.get(url("/account/mfa")).header("cookie", &session)).await;
    assert_eq!(enrol.status, StatusCode::OK);
    let value = session.split_once('=').unwrap().1;
    let plain = fetch(
        client
            .get(url("/account/mfa"))
            .header("cookie", format!("haven_session={value}")),
    )
    .await;
    plain.assert_redirect("/signin");
}

#[tokio::test]
async fn forwarded_headers_count_only_from_a_trusted_proxy() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = TrustedProxies::parse(&["127.0.0.1"]).unwrap();
    })
    .await;
    let admin = app.setup_org_and_admin().await;
    app.set_mfa_required(&admin.org, false).await;
    let client = bare_client();
    let url = |p: &str| format!("{}{p}", app.base);

    // The proxy says the browser came over HTTPS: secure cookies. Without it: plain ones.
    let https = fetch(
        client
            .get(url("/signin"))
            .header("x-forwarded-proto", "https"),
    )
    .await;
    assert_secure(&set_cookie(&https, "__Host-haven_csrf").1);
    assert!(https.header("strict-transport-security").is_some());
    let http = fetch(client.get(url("/signin"))).await;
    let (csrf, header) = set_cookie(&http, "haven_csrf");
    assert!(!header.contains("Secure"));
    assert!(http.header("strict-transport-security").is_none());
    let token = csrf.split_once('=').unwrap().1.to_string();

    // The client is the rightmost address the proxy did not add itself; anything to its
    // left was written by the client and is not believed.
    let attempt = |forwarded: &'static str, email: String, password: String| {
        fetch(
            client
                .post(url("/signin"))
                .header("cookie", &csrf)
                .header("x-forwarded-for", forwarded)
                .form(&[
                    ("_csrf", token.clone()),
                    ("email", email),
                    ("password", password),
                ]),
        )
    };
    for i in 0..10 {
        let page = attempt(
            "10.9.9.9, 198.51.100.7",
            format!("stranger{i}@riverside.example.org"),
            "guessing wildly".into(),
        )
        .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let failed = app.audit_of("staff.sign_in_failed").await;
    assert!(
        failed
            .iter()
            .all(|r| r.client_addr.as_deref() == Some("198.51.100.7"))
    );
    // That address is locked out; the same account from another address is not.
    let locked = attempt("198.51.100.7", admin.email.clone(), admin.password.clone()).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    let other = attempt(
        "10.9.9.9, 198.51.100.8",
        admin.email.clone(),
        admin.password.clone(),
    )
    .await;
    other.assert_redirect("/");
    let signed_in = app.audit_of("staff.sign_in").await.pop().unwrap();
    assert_eq!(signed_in.client_addr.as_deref(), Some("198.51.100.8"));
}
