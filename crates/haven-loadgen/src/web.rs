//! A staff member's browser, as far as the load needs one: signing in through Haven's real
//! pages (password, then the authenticator code or a first enrolment, then a forced
//! password change), opening a test room and asking for invitation links.
//!
//! Forms carry the double-submit CSRF token read from each page's `_csrf` field; cookies
//! live in the client's jar; redirects are followed by hand so that every step is seen.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use haven_domain::totp::{self, TotpSecret};
use rand::Rng;
use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use url::Url;

use crate::html;
use crate::staff::{Account, StaffFile};

/// Sign-in takes a handful of requests; more redirects than this is a loop.
const MAX_STEPS: usize = 8;
/// Every request of the set-up is answered well within this on a working server.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A signed-in staff member.
pub struct StaffBrowser {
    client: reqwest::Client,
    jar: Arc<Jar>,
    base: Url,
}

/// One answer, read whole.
struct Page {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl StaffBrowser {
    fn new(base: &Url) -> anyhow::Result<StaffBrowser> {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("building the HTTP client")?;
        Ok(StaffBrowser {
            client,
            jar,
            base: base.clone(),
        })
    }

    /// Signs `account` in, completing whatever the server asks for, and saves new
    /// credentials to `file` as soon as the server has accepted them.
    pub async fn sign_in(base: &Url, account: &Account, file: &StaffFile) -> anyhow::Result<Self> {
        let browser = StaffBrowser::new(base)?;
        let mut account = account.clone();
        let csrf = browser.csrf_of("/signin").await?;
        let first = browser
            .post(
                "/signin",
                &csrf,
                &[("email", &account.email), ("password", &account.password)],
            )
            .await?;
        let mut next = match (first.status, first.location) {
            (StatusCode::SEE_OTHER, Some(to)) => to,
            (StatusCode::UNAUTHORIZED, _) => bail!("the email address or password is not right"),
            (status, _) => bail!("sign-in answered {status}: {}", html::text_of(&first.body)),
        };
        for _ in 0..MAX_STEPS {
            next = match next.as_str() {
                "/" => match browser.get("/").await? {
                    p if p.status == StatusCode::OK => return Ok(browser),
                    Page {
                        location: Some(to), ..
                    } => to,
                    p => bail!("the home page answered {}", p.status),
                },
                "/account/mfa" => {
                    let to = browser.enrol(&mut account).await?;
                    file.update(&account)?;
                    to
                }
                "/signin/mfa" => browser.second_factor(&account).await?,
                "/account/password" => {
                    let to = browser.change_password(&mut account).await?;
                    file.update(&account)?;
                    to
                }
                other => bail!("sign-in went to {other} unexpectedly"),
            };
        }
        bail!("sign-in did not finish after {MAX_STEPS} steps")
    }

    /// Enrols an authenticator: reads the secret from the form, as a person scans the QR
    /// code, and answers with the current code. Returns where to go next.
    async fn enrol(&self, account: &mut Account) -> anyhow::Result<String> {
        let page = self.get("/account/mfa").await?;
        let csrf = html::input_value(&page.body, "_csrf").context("no _csrf on /account/mfa")?;
        let secret =
            html::input_value(&page.body, "secret").context("no secret on /account/mfa")?;
        let key = TotpSecret::from_base32(&secret).map_err(|e| anyhow!("bad secret: {e}"))?;
        let code = totp::code_at(&key, unix_now());
        let done = self
            .post(
                "/account/mfa",
                &csrf,
                &[("secret", &secret), ("code", &code)],
            )
            .await?;
        if done.status != StatusCode::OK {
            bail!(
                "enrolment answered {}: {}",
                done.status,
                html::text_of(&done.body)
            );
        }
        account.totp_secret = Some(secret);
        // The recovery-codes page links on; "/" redirects to a forced password change.
        Ok("/".to_owned())
    }

    /// Enters an authenticator code. A code is accepted once per 30-second step, so after a
    /// refusal (the step was used by a sign-in moments ago) it waits for the next step once.
    async fn second_factor(&self, account: &Account) -> anyhow::Result<String> {
        let Some(secret) = &account.totp_secret else {
            bail!("the account has two-step sign-in but the staff file has no secret for it");
        };
        let key = TotpSecret::from_base32(secret).map_err(|e| anyhow!("bad secret: {e}"))?;
        for attempt in 0..2 {
            let csrf = self.csrf_of("/signin/mfa").await?;
            let code = totp::code_at(&key, unix_now());
            let page = self.post("/signin/mfa", &csrf, &[("code", &code)]).await?;
            match (page.status, page.location) {
                (StatusCode::SEE_OTHER, Some(to)) => return Ok(to),
                (StatusCode::UNAUTHORIZED, _) if attempt == 0 => {
                    let step = totp::STEP_SECONDS;
                    let wait = step - unix_now().rem_euclid(step) + 1;
                    tokio::time::sleep(Duration::from_secs(wait.unsigned_abs())).await;
                }
                (status, _) => bail!("the code was refused ({status})"),
            }
        }
        bail!("the authenticator code was refused twice")
    }

    /// Chooses a new random password, as the server insists at first sign-in.
    async fn change_password(&self, account: &mut Account) -> anyhow::Result<String> {
        let csrf = self.csrf_of("/account/password").await?;
        let new = random_password();
        let page = self
            .post(
                "/account/password",
                &csrf,
                &[("current", &account.password), ("password", &new)],
            )
            .await?;
        match (page.status, page.location) {
            (StatusCode::SEE_OTHER, Some(to)) => {
                account.password = new;
                Ok(to)
            }
            (status, _) => bail!(
                "the password change answered {status}: {}",
                html::text_of(&page.body)
            ),
        }
    }

    /// Opens a test room (ending one this member hosted before); returns its first seat.
    pub async fn open_room(&self) -> anyhow::Result<String> {
        let csrf = self.csrf_of("/").await?;
        let page = self.post("/rooms/test", &csrf, &[]).await?;
        if page.status != StatusCode::OK {
            bail!("opening a test room answered {}", page.status);
        }
        html::invite_token(&page.body).context("the test room page shows no invitation link")
    }

    /// One more seat in the room this member hosts.
    pub async fn invite(&self) -> anyhow::Result<String> {
        let csrf = self.csrf_of("/").await?;
        let page = self.post("/rooms/test/invite", &csrf, &[]).await?;
        if page.status != StatusCode::OK {
            bail!("asking for an invitation answered {}", page.status);
        }
        html::invite_token(&page.body).context("the invitation page shows no link")
    }

    /// The `Cookie` header this browser sends, for the host's WebSocket.
    pub fn cookie_header(&self) -> Option<String> {
        let value = self.jar.cookies(&self.base)?;
        value.to_str().ok().map(str::to_owned)
    }

    async fn csrf_of(&self, path: &str) -> anyhow::Result<String> {
        let page = self.get(path).await?;
        html::input_value(&page.body, "_csrf")
            .with_context(|| format!("no CSRF token on {path} ({})", page.status))
    }

    async fn get(&self, path: &str) -> anyhow::Result<Page> {
        let url = self.base.join(path)?;
        read(self.client.get(url)).await
    }

    async fn post(&self, path: &str, csrf: &str, fields: &[(&str, &str)]) -> anyhow::Result<Page> {
        let mut form = vec![("_csrf", csrf)];
        form.extend_from_slice(fields);
        let url = self.base.join(path)?;
        read(self.client.post(url).form(&form)).await
    }
}

async fn read(req: reqwest::RequestBuilder) -> anyhow::Result<Page> {
    let resp = req.send().await.context("the server did not answer")?;
    let status = resp.status();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.text().await.context("reading the answer")?;
    Ok(Page {
        status,
        location,
        body,
    })
}

fn unix_now() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
}

/// 24 random letters and digits: about 140 bits, far above the password policy's bar.
fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}
