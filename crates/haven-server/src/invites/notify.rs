//! A thin GOV.UK Notify client: `POST /v2/notifications/sms` and `/email`, each signed
//! with a fresh HS256 JWT whose claims are exactly `iss` (the service id) and `iat`.
//!
//! The base URL is configurable (tests point it at a local stand-in). Outcomes are decided
//! by HTTP status and Notify's error type, never by message text; neither Notify's messages
//! (which can echo a phone number) nor our request body reach a log or a staff reason.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::transport::{CodeText, Invitation, SendError};

/// Notify's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.notifications.service.gov.uk";

/// How long one request may take: well inside the worker's lease on a message.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A Notify API key, `{key name}-{service id}-{secret}`. `Debug` never prints it.
#[derive(Clone)]
pub struct NotifyApiKey {
    service_id: String,
    secret: String,
}

impl NotifyApiKey {
    /// Splits a key as Notify's own clients do, counting from the end (key names may hold
    /// hyphens). The message never repeats the key.
    pub fn parse(key: &str) -> Result<NotifyApiKey, String> {
        let key = key.trim();
        let bad = || {
            "must be the API key Notify gave you: its name, then the service id and the \
             secret (two UUIDs), joined by hyphens"
                .to_string()
        };
        if !key.is_ascii() || key.len() < 74 {
            return Err(bad());
        }
        let (service_id, secret) = (&key[key.len() - 73..key.len() - 37], &key[key.len() - 36..]);
        if key.as_bytes()[key.len() - 37] != b'-' || !is_uuid(service_id) || !is_uuid(secret) {
            return Err(bad());
        }
        Ok(NotifyApiKey {
            service_id: service_id.to_string(),
            secret: secret.to_string(),
        })
    }

    /// The service id (the JWT's `iss`); not a secret.
    pub fn service_id(&self) -> &str {
        &self.service_id
    }
}

impl fmt::Debug for NotifyApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NotifyApiKey(service {}, {{redacted}})", self.service_id)
    }
}

/// Whether `text` is a UUID in its usual 8-4-4-4-12 hex form (template ids, key parts).
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The claims Notify expects, and nothing else.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    iat: u64,
}

/// What the client needs: the key, where Notify is, and the templates.
#[derive(Clone)]
pub struct NotifyClient {
    http: reqwest::Client,
    base_url: String,
    key: NotifyApiKey,
}

/// A recipient in Notify's terms.
pub enum Recipient<'a> {
    /// A mobile number in E.164 form, and the SMS template.
    Sms {
        phone_number: &'a str,
        template_id: &'a str,
    },
    /// An email address, and the email template.
    Email {
        email_address: &'a str,
        template_id: &'a str,
    },
}

/// The part of a 201 answer Haven keeps: Notify's id for the notification.
#[derive(Deserialize)]
struct Created {
    id: String,
}

/// Notify's error body: `{"status_code": N, "errors": [{"error": "…", "message": "…"}]}`.
#[derive(Deserialize)]
struct Errors {
    errors: Vec<ErrorItem>,
}

#[derive(Deserialize)]
struct ErrorItem {
    error: String,
}

impl NotifyClient {
    /// A client for `base_url` (no trailing slash needed).
    pub fn new(key: NotifyApiKey, base_url: &str) -> NotifyClient {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            // Building fails only if the TLS backend cannot start, which is a broken build.
            .expect("the HTTP client starts with the built-in TLS configuration");
        NotifyClient {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
        }
    }

    /// The bearer token for a request made now. `iat` is the real time, whatever clock
    /// the worker runs on: Notify refuses tokens more than 30 seconds from its own clock.
    fn token(&self) -> String {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims {
            iss: &self.key.service_id,
            iat,
        };
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        let key = jsonwebtoken::EncodingKey::from_secret(self.key.secret.as_bytes());
        // HS256 with an HMAC key and a plain struct of claims cannot fail to encode.
        jsonwebtoken::encode(&header, &claims, &key).expect("HS256 signing of two claims")
    }

    /// Sends one invitation; returns Notify's id for it.
    pub async fn send(
        &self,
        to: Recipient<'_>,
        invitation: &Invitation<'_>,
    ) -> Result<String, SendError> {
        let personalisation = json!({
            "first_name": invitation.first_name,
            "clinic": invitation.clinic,
            "when": invitation.when,
            "link": invitation.link.as_str(),
        });
        self.post(to, personalisation, invitation.reference.as_str())
            .await
    }

    /// Sends a one-time code by text message; returns Notify's id for it.
    pub async fn send_code(
        &self,
        to: Recipient<'_>,
        text: &CodeText<'_>,
    ) -> Result<String, SendError> {
        let personalisation = json!({
            "code": text.code.as_str(),
            "clinic": text.clinic,
            "organisation": text.organisation,
        });
        self.post(to, personalisation, text.reference.as_str())
            .await
    }

    /// One notification; `reference` is our message id: opaque, never personal data.
    async fn post(
        &self,
        to: Recipient<'_>,
        personalisation: serde_json::Value,
        reference: &str,
    ) -> Result<String, SendError> {
        let (path, body) = match to {
            Recipient::Sms {
                phone_number,
                template_id,
            } => (
                "sms",
                json!({"phone_number": phone_number, "template_id": template_id,
                       "personalisation": personalisation, "reference": reference}),
            ),
            Recipient::Email {
                email_address,
                template_id,
            } => (
                "email",
                json!({"email_address": email_address, "template_id": template_id,
                       "personalisation": personalisation, "reference": reference}),
            ),
        };
        let url = format!("{}/v2/notifications/{path}", self.base_url);
        let response = self
            .http
            .post(url)
            .bearer_auth(self.token())
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                let what = if e.is_timeout() {
                    "timed out"
                } else {
                    "connection failed"
                };
                tracing::warn!(what, "GOV.UK Notify could not be reached");
                SendError::retry(format!("could not reach GOV.UK Notify ({what})"))
            })?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap_or_default();
        if status == 201 {
            return match serde_json::from_slice::<Created>(&bytes) {
                Ok(created) => Ok(created.id),
                // Accepted, so it must not be sent again; without an id no receipt will
                // match it, and it stays "sent".
                Err(_) => {
                    tracing::warn!("GOV.UK Notify accepted a message but its answer had no id");
                    Ok(String::new())
                }
            };
        }
        let error_type = serde_json::from_slice::<Errors>(&bytes)
            .ok()
            .and_then(|e| e.errors.into_iter().next())
            .map(|e| e.error)
            .filter(|t| t.len() <= 64 && t.bytes().all(|b| b.is_ascii_alphanumeric()))
            .unwrap_or_else(|| "no error type".to_string());
        tracing::warn!(status, error_type, "GOV.UK Notify did not accept a message");
        Err(match status {
            429 => SendError::retry(format!("GOV.UK Notify is limiting requests: {error_type}")),
            500..=599 => SendError::retry(format!("GOV.UK Notify had an error ({status})")),
            _ => SendError::fail(format!("Notify refused the message: {error_type}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = "26785a09-ab16-4eb0-8407-a37497a57506";
    const SECRET: &str = "3d844edf-8d35-48ac-975b-e847b4f122b0";

    #[test]
    fn a_key_is_split_from_the_end_so_its_name_may_hold_hyphens() {
        let key = NotifyApiKey::parse(&format!("haven-live-key-{SERVICE}-{SECRET}")).unwrap();
        assert_eq!(
            (key.service_id.as_str(), key.secret.as_str()),
            (SERVICE, SECRET)
        );
        assert!(!format!("{key:?}").contains(SECRET));
        for bad in [
            "",
            SECRET,
            &format!("name-{SERVICE}{SECRET}x"),
            &format!("name-{SERVICE}-{}", &SECRET[..35]),
            &format!("name-{SERVICE}-{}", SECRET.replace('3', "z")),
        ] {
            let message = NotifyApiKey::parse(bad).unwrap_err();
            assert!(!message.contains(SECRET), "{message}");
        }
    }

    #[test]
    fn template_ids_are_uuids() {
        assert!(is_uuid(SERVICE));
        assert!(!is_uuid("f33517ff-2a88-4f6e-b855"));
        assert!(!is_uuid("not-a-uuid-at-all-really"));
    }
}
