//! The booking API's test client: an organisation with a key, another organisation's key,
//! and the served OpenAPI document to check every answer against.

#![allow(dead_code)]

use haven_domain::OrgId;
use haven_domain::time::Duration;
use haven_domain::time::format_description::well_known::Rfc3339;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{self, TestApp};

pub struct Api {
    pub app: TestApp,
    pub http: reqwest::Client,
    pub key: String,
    pub org: OrgId,
    pub clinic: String,
    pub other_key: String,
    pub document: Value,
}

impl Api {
    pub async fn start() -> Api {
        let app = common::spawn_app().await;
        let org = app.create_org("Riverside Health").await;
        let clinic = app.create_clinic(&org, "Physiotherapy").await;
        let key =
            haven_server::ops::orgs::create_api_key(&app.store, &app.system(), &org, "GP booking")
                .await
                .expect("a key is made");
        let other = app.create_org("Hillside Health").await;
        let other_key = haven_server::ops::orgs::create_api_key(
            &app.store,
            &app.system(),
            &other,
            "GP booking",
        )
        .await
        .expect("a key is made");
        let http = reqwest::Client::new();
        let document = http
            .get(format!("{}/api/v1/openapi.json", app.base))
            .send()
            .await
            .expect("the document is served")
            .json()
            .await
            .expect("the document is JSON");
        Api {
            app,
            http,
            key,
            org,
            clinic: clinic.as_str().to_owned(),
            other_key,
            document,
        }
    }

    pub fn at(&self, from_now: Duration) -> String {
        (self.app.now() + from_now).format(&Rfc3339).unwrap()
    }

    pub fn booking(&self) -> Value {
        json!({
            "clinic_id": self.clinic,
            "starts_at": self.at(Duration::days(2)),
            "kind": "one_to_one",
            "patient": {
                "name": "Sam Patient",
                "date_of_birth": "1984-03-27",
                "nhs_number": "943 476 5919",
                "mobile": "07700 900123",
                "preferred_contact": "sms"
            }
        })
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.app.base);
        let mut req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        };
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.expect("the server answers");
        let status = res.status();
        let body = res.json().await.expect("every API answer is JSON");
        (status, body)
    }

    /// The document's schema `name`, ready to check bodies against.
    fn schema(&self, name: &str) -> jsonschema::Validator {
        let mut schema = self.document.clone();
        schema["$ref"] = json!(format!("#/components/schemas/{name}"));
        jsonschema::validator_for(&schema).expect("the document's schemas compile")
    }

    /// Fails unless `body` matches the document's schema `name`.
    pub fn conforms(&self, name: &str, body: &Value) {
        let problems: Vec<String> = self
            .schema(name)
            .iter_errors(body)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(problems.is_empty(), "{name}: {problems:?}\n{body:#}");
    }

    /// Whether `body` is valid against the document's schema `name`.
    pub fn valid(&self, name: &str, body: &Value) -> bool {
        self.schema(name).is_valid(body)
    }

    pub async fn create(&self, body: &Value) -> (StatusCode, Value) {
        self.call("POST", "/api/v1/consultations", Some(&self.key), Some(body))
            .await
    }
}

pub fn field_errors(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| f["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}
