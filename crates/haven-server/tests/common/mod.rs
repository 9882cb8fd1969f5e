//! The integration-test harness: a real Haven server on a loopback port, with a fresh
//! database (SQLite, or PostgreSQL when `HAVEN_TEST_DATABASE_URL` is set) and a
//! [`ManualClock`] that only moves when a test moves it.
//!
//! Browsers are reqwest clients with their own cookie jar and redirects turned off, so
//! every test sees the real `303 See Other` answers and their `Location` headers. Every
//! response is checked on the way in (see [`Page`]): never a 5xx, always a
//! Content-Security-Policy, never an email address in a redirect, and for HTML pages
//! `Cache-Control: no-store` and no `<script` anywhere.
//!
//! Time only moves through [`TestApp::advance`]; nothing sleeps.

// Each test file uses a different part of the harness.
#![allow(dead_code)]

pub mod booking;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use haven_domain::audit::{Actor, AuditRecord};
use haven_domain::time::macros::datetime;
use haven_domain::time::{Duration, OffsetDateTime};
use haven_domain::totp::{self, TotpSecret};
use haven_domain::{Email, OrgId, Role, Roles, UserId};
use haven_server::ops::{self, Context};
use haven_server::{AppState, Clock, Config, ManualClock};
use haven_store::Store;
use haven_store::audit::AuditFilter;
use haven_store::testing::{TestDatabase, fresh_database};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, StatusCode, Url};

/// Where every test's clock starts: a Monday morning.
pub const START: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

/// The setup admin's details (the first organisation's first user).
pub const ADMIN_EMAIL: &str = "ada.lovelace@riverside.example.org";
pub const ADMIN_NAME: &str = "Ada Lovelace";
pub const ADMIN_PASSWORD: &str = "saffron kettle glacier mosaic";
pub const ORG_NAME: &str = "Riverside Health Centre";

/// A running server and what a test needs to reach behind it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    /// The server's database (for checks behind the web pages).
    pub store: Store,
    /// The server's clock.
    pub clock: Arc<ManualClock>,
    /// The server's state, for operations that take it (clinics, policy).
    pub state: AppState,
    // Kept alive for the test's duration: dropping it removes a SQLite database.
    _db: TestDatabase,
}

/// A staff account the test knows the password of.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: UserId,
    pub org: OrgId,
    pub email: String,
    pub name: String,
    pub password: String,
}

/// Starts a server on a free loopback port with a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server as [`spawn_app`] does, with the test configuration changed first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let db = fresh_database().await;
    let store = Store::connect(&db.url)
        .await
        .expect("a fresh test database accepts connections and migrations");
    let clock = Arc::new(ManualClock::new(START));
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback has free ports");
    let addr: SocketAddr = listener
        .local_addr()
        .expect("a bound socket has an address");
    let mut config = Config::for_tests(addr);
    configure(&mut config);
    let state = AppState::new(store.clone(), config, clock.clone());
    tokio::spawn(haven_server::serve(state.clone(), listener));
    TestApp {
        base: format!("http://{addr}"),
        store,
        clock,
        state,
        _db: db,
    }
}

impl TestApp {
    /// A new browser with an empty cookie jar.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    /// The current simulated time.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Moves the simulated time forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// A context for operations run by "the system" (as the command line does).
    pub fn system(&self) -> Context {
        Context {
            actor: Actor::System,
            client_addr: None,
            now: self.now(),
        }
    }

    /// A fresh first-run setup link, as a path (`/setup/TOKEN`).
    pub async fn setup_path(&self) -> String {
        let link = ops::accounts::setup_link(&self.store, self.now(), &self.base)
            .await
            .expect("creating a setup link works on an empty database");
        link.strip_prefix(&self.base)
            .expect("setup links are built from the public URL")
            .to_string()
    }

    /// Creates the first organisation and its admin through the real setup form.
    pub async fn setup_org_and_admin(&self) -> Account {
        let path = self.setup_path().await;
        self.setup_org_and_admin_at(&path).await
    }

    /// Creates the first organisation and its admin with the setup form at `path`.
    pub async fn setup_org_and_admin_at(&self, path: &str) -> Account {
        let browser = self.browser();
        let form = browser.get(path).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let done = browser
            .post_form_with(
                &form.csrf(),
                path,
                &[
                    ("organisation", ORG_NAME),
                    ("name", ADMIN_NAME),
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                ],
            )
            .await;
        done.assert_redirect("/signin?setup=done");
        self.account(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// The stored account for `email`, with the password the test gave it.
    pub async fn account(&self, email: &str, password: &str) -> Account {
        let user = self.user(email).await;
        Account {
            id: user.id,
            org: user.org_id,
            email: email.to_string(),
            name: user.name.as_str().to_string(),
            password: password.to_string(),
        }
    }

    /// The stored user row for `email`.
    pub async fn user(&self, email: &str) -> haven_store::users::User {
        let email = Email::parse(email).expect("tests use valid addresses");
        self.store
            .user_by_email(&email)
            .await
            .expect("reading a user works")
            .expect("the user exists")
    }

    /// Creates an organisation directly (the command line's way).
    pub async fn create_org(&self, name: &str) -> OrgId {
        ops::orgs::create_org(&self.store, &self.system(), name)
            .await
            .expect("creating an organisation works")
    }

    /// Adds a user directly, with a password they need not change.
    pub async fn add_user(
        &self,
        org: &OrgId,
        email: &str,
        name: &str,
        roles: &[Role],
        password: &str,
    ) -> Account {
        let new = ops::accounts::NewStaff {
            email,
            name,
            roles: Roles::from_iter(roles.iter().copied()),
            password,
            must_change_password: false,
        };
        let id = ops::accounts::add_user(&self.store, &self.system(), org, &new)
            .await
            .expect("adding a valid user works");
        Account {
            id,
            org: org.clone(),
            email: email.to_string(),
            name: name.to_string(),
            password: password.to_string(),
        }
    }

    /// Creates a clinic directly.
    pub async fn create_clinic(&self, org: &OrgId, name: &str) -> haven_domain::ClinicId {
        ops::orgs::create_clinic(&self.store, &self.system(), org, name)
            .await
            .expect("creating a clinic works")
    }

    /// Turns the organisation's "MFA required" policy on or off.
    pub async fn set_mfa_required(&self, org: &OrgId, required: bool) {
        let mut policy = self.store.org(org).await.expect("the org exists").policy;
        policy.mfa_required = required;
        ops::orgs::set_policy(&self.state, &self.system(), org, &policy)
            .await
            .expect("setting the policy works");
    }

    /// The setup admin, signed in (enrolling MFA on first sign-in).
    pub async fn signed_in_admin(&self) -> (Account, Browser) {
        let admin = self.setup_org_and_admin().await;
        let browser = self.browser();
        self.sign_in(&browser, &admin.email, &admin.password)
            .await
            .assert_home();
        (admin, browser)
    }

    /// Signs `browser` in, completing whatever second step the server asks for: MFA
    /// enrolment (reading the secret from the form) or an authenticator code (computed
    /// from the stored secret). If the user's last code was in the current 30-second
    /// step, the clock first moves to the next step, as a person would wait for a new code.
    pub async fn sign_in(&self, browser: &Browser, email: &str, password: &str) -> SignIn {
        let first = browser
            .post_form("/signin", &[("email", email), ("password", password)])
            .await;
        if first.status != StatusCode::SEE_OTHER {
            return SignIn {
                last: first,
                recovery_codes: Vec::new(),
            };
        }
        match first.location() {
            Some("/account/mfa") => self.enrol_mfa(browser).await,
            Some("/signin/mfa") => {
                let code = self.next_code(email).await;
                let last = browser.post_form("/signin/mfa", &[("code", &code)]).await;
                SignIn {
                    last,
                    recovery_codes: Vec::new(),
                }
            }
            _ => SignIn {
                last: first,
                recovery_codes: Vec::new(),
            },
        }
    }

    /// Completes MFA enrolment on the enrolment page, returning the recovery codes.
    pub async fn enrol_mfa(&self, browser: &Browser) -> SignIn {
        let page = browser.get("/account/mfa").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let secret = page
            .input_value("secret")
            .expect("the form carries the secret");
        let key = TotpSecret::from_base32(&secret).expect("the form's secret is base32");
        let code = totp::code_at(&key, self.now().unix_timestamp());
        let last = browser
            .post_form_with(
                &page.csrf(),
                "/account/mfa",
                &[("secret", &secret), ("code", &code)],
            )
            .await;
        assert_eq!(last.status, StatusCode::OK, "{}", last.body);
        let recovery_codes = last.recovery_codes();
        SignIn {
            last,
            recovery_codes,
        }
    }

    /// A fresh authenticator code for an enrolled user, moving the clock to a new
    /// 30-second step if the current one has been used.
    pub async fn next_code(&self, email: &str) -> String {
        let user = self.user(email).await;
        let secret = user.totp_secret.expect("the user has enrolled");
        if let Some(last) = user.totp_last_step {
            while totp::step_at(self.now().unix_timestamp()) <= last {
                self.advance(Duration::seconds(totp::STEP_SECONDS));
            }
        }
        totp::code_at(&secret, self.now().unix_timestamp())
    }

    /// Every audit entry (all organisations), oldest first.
    pub async fn audit(&self) -> Vec<AuditRecord> {
        let mut all = self
            .store
            .audit_entries(&AuditFilter::default(), 10_000, 0)
            .await
            .expect("reading the audit log works");
        all.reverse();
        all
    }

    /// Asserts the whole audit chain links up; returns how many entries it has.
    pub async fn verify_chain(&self) -> u64 {
        ops::audit_log::verify(&self.store)
            .await
            .expect("reading the audit log works")
            .unwrap_or_else(|broken| panic!("the audit chain is broken: {broken:?}"))
    }

    /// The audit entries with this action, oldest first.
    pub async fn audit_of(&self, action: &str) -> Vec<AuditRecord> {
        self.audit()
            .await
            .into_iter()
            .filter(|r| r.action == action)
            .collect()
    }
}

/// What [`TestApp::sign_in`] ended with.
pub struct SignIn {
    /// The last response of the sign-in steps.
    pub last: Page,
    /// Recovery codes, if the sign-in included an MFA enrolment.
    pub recovery_codes: Vec<String>,
}

impl SignIn {
    /// Asserts the sign-in finished on its way to the home page.
    pub fn assert_home(&self) {
        match self.last.status {
            StatusCode::SEE_OTHER => self.last.assert_redirect("/"),
            // The recovery-codes page after an enrolment links on to the home page.
            StatusCode::OK => assert!(
                self.last.body.contains("<a class=\"button\" href=\"/\">"),
                "{}",
                self.last.body
            ),
            other => panic!("sign-in did not finish: {other}\n{}", self.last.body),
        }
    }
}

/// One browser: its own cookies, redirects not followed.
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    base: String,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a plain HTTP client builds");
        Browser {
            client,
            jar,
            base: base.to_string(),
        }
    }

    /// A browser that holds exactly this cookie (e.g. a session copied from another one).
    pub fn with_cookie(base: &str, cookie: &str) -> Browser {
        let browser = Browser::new(base);
        browser.jar.add_cookie_str(cookie, &browser.url("/"));
        browser
    }

    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.base)).expect("test paths make valid URLs")
    }

    /// The value of cookie `name` in this browser's jar.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let header = self.jar.cookies(&self.url("/"))?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    /// The session cookie as `name=value`, to copy into another browser.
    pub fn session_cookie(&self) -> String {
        let value = self
            .cookie("haven_session")
            .expect("the browser is signed in");
        format!("haven_session={value}")
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.client.get(self.url(path))).await
    }

    /// Posts a form with a CSRF token read from a page this browser just fetched
    /// (the sign-in page, which every browser may see and which never touches a session).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.get("/signin").await.csrf();
        self.post_form_with(&token, path, fields).await
    }

    /// Posts a form with the given CSRF token.
    pub async fn post_form_with(&self, csrf: &str, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all = vec![("_csrf", csrf)];
        all.extend_from_slice(fields);
        self.send(self.client.post(self.url(path)).form(&all)).await
    }

    /// Posts `body` as it is, with `content_type` and extra headers.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Page {
        let mut req = self
            .client
            .request(Method::POST, self.url(path))
            .header("content-type", content_type)
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    /// A CSRF token for this browser, read from the sign-in page.
    pub async fn csrf(&self) -> String {
        self.get("/signin").await.csrf()
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        fetch(req).await
    }

    /// Starts posting a form on its own task, so that several requests can be in flight
    /// at once (races); the answer is checked like any other.
    pub fn spawn_post_form(
        &self,
        csrf: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> tokio::task::JoinHandle<Page> {
        let mut all = vec![("_csrf", csrf)];
        all.extend_from_slice(fields);
        tokio::spawn(fetch(self.client.post(self.url(path)).form(&all)))
    }
}

/// Sends a request and reads the whole answer, checking what every answer must satisfy.
pub async fn fetch(req: reqwest::RequestBuilder) -> Page {
    let resp = req.send().await.expect("the server answers");
    let status = resp.status();
    let url = resp.url();
    let path = format!(
        "{}{}",
        url.path(),
        url.query().map_or(String::new(), |q| format!("?{q}"))
    );
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("the server sends a whole body");
    let page = Page {
        path,
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    page.check();
    page
}

/// A response, read whole.
#[derive(Debug)]
pub struct Page {
    /// The path (and query) asked for.
    pub path: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// What every response must satisfy.
    fn check(&self) {
        assert!(
            !self.status.is_server_error(),
            "server error {}: {}",
            self.status,
            self.body
        );
        assert!(
            self.header("content-security-policy").is_some(),
            "no CSP on a {} response",
            self.status
        );
        // Personal data never travels in a URL.
        assert!(
            !self.location().unwrap_or_default().contains('@'),
            "an email address in a redirect: {:?}",
            self.location()
        );
        if self.is_html() && !self.path.starts_with("/assets/") {
            // Pages may show personal data: never kept in a cache.
            assert_eq!(
                self.header("cache-control"),
                Some("no-store"),
                "{}",
                self.path
            );
            // No inline script: only empty module scripts loaded from /assets/.
            let lower = self.body.to_ascii_lowercase();
            for (at, _) in lower.match_indices("<script") {
                let tag = &lower[at..];
                let end = tag
                    .find("</script>")
                    .map_or(tag.len(), |e| e + "</script>".len());
                let tag = &tag[..end];
                let external = tag.starts_with("<script type=\"module\" src=\"/assets/")
                    && tag.ends_with("\"></script>")
                    && tag.matches('>').count() == 2;
                assert!(
                    external,
                    "a page contains an inline script element:\n{}",
                    self.body
                );
            }
        }
    }

    pub fn is_html(&self) -> bool {
        self.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    pub fn assert_redirect(&self, to: &str) {
        assert_eq!(
            (self.status, self.location()),
            (StatusCode::SEE_OTHER, Some(to)),
            "{}",
            self.body
        );
    }

    pub fn contains(&self, text: &str) -> bool {
        self.body.contains(text)
    }

    /// The value of the input named `name` (hidden fields: CSRF token, MFA secret).
    pub fn input_value(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let len = self.body[start..].find('"')?;
        Some(unescape(&self.body[start..start + len]))
    }

    /// The page's CSRF token (from its `_csrf` hidden field).
    pub fn csrf(&self) -> String {
        self.input_value("_csrf")
            .unwrap_or_else(|| panic!("no _csrf field on this page:\n{}", self.body))
    }

    /// The text of the error message tied to `field` (`id="FIELD-error"`), if any.
    pub fn field_error(&self, field: &str) -> Option<String> {
        let marker = format!("id=\"{field}-error\">");
        let start = self.body.find(&marker)? + marker.len();
        let len = self.body[start..].find("</p>")?;
        let text = strip_tags(&self.body[start..start + len]);
        Some(text.trim_start_matches("Error: ").to_string())
    }

    /// The `aria-describedby` of the element whose id is `field`.
    pub fn described_by(&self, field: &str) -> Option<String> {
        let at = self.body.find(&format!(" id=\"{field}\""))?;
        let open = self.body[..at].rfind('<')?;
        let close = at + self.body[at..].find('>')?;
        let tag = &self.body[open..close];
        let marker = "aria-describedby=\"";
        let start = tag.find(marker)? + marker.len();
        let len = tag[start..].find('"')?;
        Some(tag[start..start + len].to_string())
    }

    /// Asserts `field` carries an error message containing `text`, tied to the field.
    pub fn assert_field_error(&self, field: &str, text: &str) -> String {
        let message = self
            .field_error(field)
            .unwrap_or_else(|| panic!("no error for {field}:\n{}", self.body));
        // Compared without case: the wording's content matters, not its capitals.
        assert!(
            message.to_lowercase().contains(&text.to_lowercase()),
            "error for {field} is {message:?}, expected it to contain {text:?}"
        );
        let described = self.described_by(field).unwrap_or_default();
        assert!(
            described
                .split(' ')
                .any(|id| id == format!("{field}-error")),
            "{field} is not described by its error (aria-describedby={described:?})"
        );
        message
    }

    /// The recovery codes listed on the page after an MFA enrolment.
    pub fn recovery_codes(&self) -> Vec<String> {
        let Some(start) = self.body.find("<ul class=\"codes\">") else {
            return Vec::new();
        };
        let list = &self.body[start..];
        let list = &list[..list.find("</ul>").unwrap_or(list.len())];
        list.split("<li>")
            .skip(1)
            .filter_map(|item| item.split("</li>").next())
            .map(str::to_string)
            .collect()
    }

    /// The visible text of the page, roughly (tags removed, entities decoded).
    pub fn text(&self) -> String {
        strip_tags(&self.body)
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Deterministic pseudo-random bytes (xorshift64*), for fuzz-style tests.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}
