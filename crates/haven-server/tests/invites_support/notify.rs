//! A stand-in for GOV.UK Notify on 127.0.0.1, implementing the published contract of
//! `POST /v2/notifications/sms` and `/email` (shared/reference/notify.md): the request
//! schema (required fields, no other properties), the template's placeholders filled from
//! `personalisation` (a missing one is Notify's 400), the 201 answer's shape, and the error
//! body `{"status_code", "errors": [{"error", "message"}]}`. It records every request with
//! its Authorization header; the JWTs are checked by the official Python client, not here.
//! Tests script failures (400, 403, 429, 500) with [`StandIn::then`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// The service and secret of the test API key.
pub const SERVICE_ID: &str = "26785a09-ab16-4eb0-8407-a37497a57506";
pub const SECRET: &str = "3d844edf-8d35-48ac-975b-e847b4f122b0";
pub const API_KEY: &str =
    "haven-test-key-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";
pub const SMS_TEMPLATE: &str = "8a4a5c6e-6f2b-4a0e-9d57-1f0f4c9a7d11";
pub const EMAIL_TEMPLATE: &str = "c2e7f1a9-3b4d-4e5f-8a6b-7c8d9e0f1a2b";
pub const CODE_TEMPLATE: &str = "5d0c8b7a-1e2f-4a3b-9c4d-6e7f8a9b0c1d";

/// The templates' text, as a service would write them in Notify.
const SMS_TEXT: &str =
    "Hello ((first_name)), your video appointment with ((clinic)) is on ((when)). Join: ((link))";
const CODE_TEXT: &str = "((code)) is your code for your video appointment with ((clinic)), \
     ((organisation)). It works for 10 minutes. Do not share it.";
const EMAIL_TEXT: &str = "Hello ((first_name)),\n\nYour video appointment with ((clinic)) is on \
     ((when)).\n\nJoin with this link: ((link))";

/// How the stand-in answers the next request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// 201 with the documented body.
    Created,
    /// An error as Notify sends it.
    Error(u16, &'static str),
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `sms` or `email`.
    pub kind: &'static str,
    /// The Authorization header.
    pub authorization: Option<String>,
    /// The Content-Type header.
    pub content_type: Option<String>,
    /// The JSON body.
    pub body: Value,
    /// The status answered.
    pub status: u16,
    /// The notification id answered with a 201.
    pub id: Option<String>,
}

#[derive(Default)]
struct Shared {
    base: String,
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Reply>>,
}

/// A running stand-in.
#[derive(Clone)]
pub struct StandIn {
    /// `http://127.0.0.1:PORT`, what Haven's `notify_base_url` is set to.
    pub base_url: String,
    shared: Arc<Shared>,
}

impl StandIn {
    /// Starts a stand-in on a free loopback port.
    pub async fn start() -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            base: base_url.clone(),
            ..Shared::default()
        });
        let app = Router::new()
            .route("/v2/notifications/sms", post(sms))
            .route("/v2/notifications/email", post(email))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        StandIn { base_url, shared }
    }

    /// Answers the next request (after any already scripted) with `reply`.
    pub fn then(&self, reply: Reply) -> &StandIn {
        self.shared.script.lock().unwrap().push_back(reply);
        self
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }
}

async fn sms(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = [
        "phone_number",
        "template_id",
        "personalisation",
        "reference",
        "sms_sender_id",
    ];
    handle(
        &s,
        "sms",
        &headers,
        &body,
        &fields,
        "phone_number",
        &[(SMS_TEMPLATE, SMS_TEXT), (CODE_TEMPLATE, CODE_TEXT)],
    )
}

async fn email(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = [
        "email_address",
        "template_id",
        "personalisation",
        "reference",
        "email_reply_to_id",
    ];
    handle(
        &s,
        "email",
        &headers,
        &body,
        &fields,
        "email_address",
        &[(EMAIL_TEMPLATE, EMAIL_TEXT)],
    )
}

fn error(status: u16, kind: &str, message: &str) -> (u16, Value) {
    (
        status,
        json!({"status_code": status, "errors": [{"error": kind, "message": message}]}),
    )
}

#[allow(clippy::too_many_arguments)]
fn handle(
    s: &Shared,
    kind: &'static str,
    headers: &HeaderMap,
    raw: &[u8],
    allowed: &[&str],
    recipient: &str,
    templates: &[(&str, &str)],
) -> Response {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header(header::AUTHORIZATION);
    let content_type = header(header::CONTENT_TYPE);
    let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    let (status, answer) = answer(
        s,
        kind,
        &authorization,
        &content_type,
        &body,
        allowed,
        recipient,
        templates,
    );
    let id = (status == 201).then(|| answer["id"].as_str().unwrap().to_string());
    s.requests.lock().unwrap().push(Recorded {
        kind,
        authorization,
        content_type,
        body,
        status,
        id,
    });
    (StatusCode::from_u16(status).unwrap(), Json(answer)).into_response()
}

#[allow(clippy::too_many_arguments)]
fn answer(
    s: &Shared,
    kind: &str,
    authorization: &Option<String>,
    content_type: &Option<String>,
    body: &Value,
    allowed: &[&str],
    recipient: &str,
    templates: &[(&str, &str)],
) -> (u16, Value) {
    if !authorization
        .as_deref()
        .is_some_and(|a| a.starts_with("Bearer "))
    {
        return error(
            401,
            "AuthError",
            "Unauthorized: authentication token must be provided",
        );
    }
    if !content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return error(400, "BadRequestError", "Invalid JSON supplied in POST data");
    }
    let Some(fields) = body.as_object() else {
        return error(400, "BadRequestError", "Invalid JSON supplied in POST data");
    };
    for required in [recipient, "template_id"] {
        if !fields.get(required).is_some_and(Value::is_string) {
            return error(
                400,
                "ValidationError",
                &format!("{required} is a required property"),
            );
        }
    }
    if let Some(extra) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        let message = format!("Additional properties are not allowed ({extra} was unexpected)");
        return error(400, "ValidationError", &message);
    }
    let Some(&(template, text)) = templates
        .iter()
        .find(|(id, _)| fields["template_id"] == *id)
    else {
        return error(400, "BadRequestError", "Template not found");
    };
    let empty = json!({});
    let personalisation = fields.get("personalisation").unwrap_or(&empty);
    let Some(values) = personalisation.as_object() else {
        return error(
            400,
            "ValidationError",
            "personalisation is not of type object",
        );
    };
    let mut content = text.to_string();
    for placeholder in placeholders(text) {
        let Some(value) = values.get(placeholder).and_then(Value::as_str) else {
            return error(
                400,
                "BadRequestError",
                &format!("Missing personalisation: {placeholder}"),
            );
        };
        content = content.replace(&format!("(({placeholder}))"), value);
    }
    match s
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::Created)
    {
        Reply::Error(status, kind) => return error(status, kind, "scripted by the test"),
        Reply::Created => {}
    }
    let id = uuid();
    let content = match kind {
        "sms" => json!({"body": content, "from_number": "GOVUK"}),
        _ => json!({"subject": "Your video appointment", "body": content,
                    "from_email": "riverside.health@notifications.service.gov.uk"}),
    };
    (
        201,
        json!({
            "id": id,
            "reference": fields.get("reference").cloned().unwrap_or(Value::Null),
            "content": content,
            "uri": format!("{}/v2/notifications/{id}", s.base),
            "template": {
                "id": template,
                "version": 1,
                "uri": format!("{}/services/{SERVICE_ID}/templates/{template}", s.base),
            },
            "scheduled_for": null,
        }),
    )
}

/// The `((name))` placeholders of a template's text, as Notify finds them.
fn placeholders(text: &str) -> Vec<&str> {
    text.split("((")
        .skip(1)
        .filter_map(|rest| rest.split_once("))").map(|(name, _)| name))
        .collect()
}

/// A random (version 4) UUID, as Notify gives each notification.
fn uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sets Haven's invitations to go through Notify at `base_url` with the test key and the
/// three templates, and receipts to need `callback_token`.
pub fn use_notify(config: &mut haven_server::Config, base_url: &str, callback_token: Option<&str>) {
    use haven_server::invites::CallbackToken;
    use haven_server::invites::notify::NotifyApiKey;
    config.invites.channel = haven_server::InviteChannel::Notify(haven_server::NotifySettings {
        api_key: NotifyApiKey::parse(API_KEY).unwrap(),
        base_url: base_url.to_string(),
        sms_template: Some(SMS_TEMPLATE.to_string()),
        email_template: Some(EMAIL_TEMPLATE.to_string()),
        code_template: Some(CODE_TEMPLATE.to_string()),
        callback_token: callback_token.map(|t| CallbackToken::parse(t).unwrap()),
    });
}
