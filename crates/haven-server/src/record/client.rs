//! Posting a transaction bundle to the record system's FHIR endpoint, and what its answer
//! means: 2xx delivered (with where it was put), 408, 429, 5xx and no answer worth trying
//! again, any other refusal final with the reason it gave.

use std::time::Duration;

use serde_json::Value;

use crate::config::FhirEndpoint;

/// How long one post may take before it counts as a failed try.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// FHIR's JSON media type, for the request and what Haven accepts back.
pub const FHIR_JSON: &str = "application/fhir+json";

/// The longest reason kept from a refusal.
const MAX_REASON: usize = 300;

/// Why a post did not work, safe to show staff, and whether a later try may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostError {
    /// Whether to try again later.
    pub retry: bool,
    /// What went wrong.
    pub reason: String,
}

/// Posts bundles to one endpoint.
#[derive(Clone)]
pub struct FhirClient {
    http: reqwest::Client,
    endpoint: FhirEndpoint,
}

impl FhirClient {
    /// A client for `endpoint`.
    pub fn new(endpoint: FhirEndpoint) -> Result<FhirClient, String> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot start the FHIR client: {e}"))?;
        Ok(FhirClient { http, endpoint })
    }

    /// Posts `bundle`; the record system's location for it on success, if it said.
    pub async fn post(&self, bundle: &Value) -> Result<Option<String>, PostError> {
        let body = serde_json::to_vec(bundle).map_err(|e| PostError {
            retry: false,
            reason: format!("the bundle could not be written as JSON: {e}"),
        })?;
        let response = self
            .http
            .post(&self.endpoint.url)
            .header(reqwest::header::AUTHORIZATION, self.endpoint.token.header())
            .header(reqwest::header::CONTENT_TYPE, FHIR_JSON)
            .header(reqwest::header::ACCEPT, FHIR_JSON)
            .body(body)
            .send()
            .await
            .map_err(|e| PostError {
                retry: true,
                reason: if e.is_timeout() {
                    "the record system did not answer in time".into()
                } else {
                    "could not connect to the record system".into()
                },
            })?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let answer: Option<Value> = response
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        match status {
            200..=299 => Ok(location
                .or_else(|| answer.as_ref().and_then(placed))
                .map(|l| clean(&l))),
            408 | 429 | 500..=599 => Err(PostError {
                retry: true,
                reason: format!("the record system was busy or failed ({status})"),
            }),
            _ => {
                let why = answer.as_ref().and_then(outcome_text);
                Err(PostError {
                    retry: false,
                    reason: match why {
                        Some(why) => format!("the record system refused it ({status}): {why}"),
                        None => format!("the record system refused it ({status})"),
                    },
                })
            }
        }
    }
}

/// Where a transaction response says the encounter (or the bundle) was put.
fn placed(answer: &Value) -> Option<String> {
    let entries = answer["entry"].as_array();
    let encounter = entries.into_iter().flatten().find_map(|e| {
        e["response"]["location"]
            .as_str()
            .filter(|l| l.starts_with("Encounter/"))
    });
    encounter
        .or_else(|| answer["id"].as_str())
        .map(str::to_owned)
}

/// The first issue of an `OperationOutcome`, in a line.
fn outcome_text(answer: &Value) -> Option<String> {
    let issue = &answer["issue"][0];
    let text = issue["diagnostics"]
        .as_str()
        .or_else(|| issue["details"]["text"].as_str())
        .or_else(|| issue["code"].as_str())?;
    Some(clean(text))
}

/// One line of at most [`MAX_REASON`] characters.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_REASON)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_transaction_response_gives_the_encounter_location() {
        let answer = json!({ "resourceType": "Bundle", "id": "b1", "entry": [
            { "response": { "status": "201", "location": "Patient/7/_history/1" } },
            { "response": { "status": "201", "location": "Encounter/42/_history/1" } },
        ]});
        assert_eq!(placed(&answer).as_deref(), Some("Encounter/42/_history/1"));
        assert_eq!(placed(&json!({ "id": "b1" })).as_deref(), Some("b1"));
    }

    #[test]
    fn a_refusal_is_told_in_one_short_line() {
        let answer = json!({ "resourceType": "OperationOutcome", "issue": [
            { "severity": "error", "code": "invalid", "diagnostics": "Encounter.class:\nmissing" }
        ]});
        assert_eq!(
            outcome_text(&answer).as_deref(),
            Some("Encounter.class: missing")
        );
        assert_eq!(clean(&"x".repeat(1000)).len(), MAX_REASON);
    }
}
