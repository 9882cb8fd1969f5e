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
mod browser;
mod reports;

#[allow(unused_imports)] // Not every test binary fetches by hand.
pub use browser::{Browser, Page, fetch};

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
use reqwest::StatusCode;

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

    /// Dana Doctor, a clinician of `org` (doc@example.org, [`booking::PASSWORD`]): the clinician
    /// most tests book for.
    pub async fn add_doctor(&self, org: &OrgId) -> Account {
        self.add_user(
            org,
            "doc@example.org",
            "Dana Doctor",
            &[Role::Clinician],
            booking::PASSWORD,
        )
        .await
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
