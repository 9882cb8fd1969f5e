//! Browsers in tests: reqwest clients with their own cookie jar and redirects turned off,
//! and the pages they get back, each checked on the way in.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, StatusCode, Url};

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
