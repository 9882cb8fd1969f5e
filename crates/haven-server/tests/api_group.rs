//! Booking a group through the API: hosts and attendees with their own links, answers
//! that match the OpenAPI document, and each refusal named by its field.

mod api_support;
mod common;

use api_support::{Api, field_errors};
use haven_domain::Role;
use haven_domain::time::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn host(api: &Api) -> String {
    api.app
        .add_user(
            &api.org,
            "midwife@example.org",
            "Mina Midwife",
            &[Role::Clinician],
            "copper lantern orchard wisdom",
        )
        .await
        .id
        .as_str()
        .to_owned()
}

fn attendee(i: usize) -> Value {
    json!({
        "name": format!("Person Number{i}"),
        "date_of_birth": "1980-01-01",
        "email": format!("p{i}@example.org"),
        "preferred_contact": "email"
    })
}

fn group(api: &Api, clinician: &str, attendees: Vec<Value>) -> Value {
    json!({
        "clinic_id": api.clinic,
        "clinician_id": clinician,
        "starts_at": api.at(Duration::days(2)),
        "kind": "group",
        "attendees": attendees,
        "send_invitations": false
    })
}

#[tokio::test]
async fn a_group_is_booked_with_its_hosts_and_a_link_per_attendee() {
    let api = Api::start().await;
    let clinician = host(&api).await;
    let mut people: Vec<Value> = (0..3).map(attendee).collect();
    people[0]["nhs_number"] = json!("943 476 5919");
    let booking = group(&api, &clinician, people);
    api.conforms("NewConsultation", &booking);
    let (status, body) = api.create(&booking).await;
    assert_eq!(status, StatusCode::CREATED, "{body:#}");
    api.conforms("Consultation", &body);
    assert_eq!(body["kind"], "group");
    assert_eq!(body["patient"], Value::Null);
    assert_eq!(body["host_ids"], json!([clinician]));
    let participants = body["participants"].as_array().unwrap();
    assert_eq!(participants.len(), 3);
    assert!(participants.iter().all(|p| p["join_link"].is_string()));
    assert_eq!(participants[0]["nhs_number"], "9434765919");
    assert_eq!(participants[1]["date_of_birth"], "1980-01-01");

    let id = body["id"].as_str().unwrap();
    let (status, read) = api
        .call(
            "GET",
            &format!("/api/v1/consultations/{id}"),
            Some(&api.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    api.conforms("Consultation", &read);
    assert_eq!(read["host_ids"], json!([clinician]));
}

#[tokio::test]
async fn group_limits_and_mistakes_are_named_by_field() {
    let api = Api::start().await;
    let clinician = host(&api).await;

    let (status, body) = api
        .create(&group(&api, &clinician, (0..31).map(attendee).collect()))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:#}");
    api.conforms("Error", &body);
    assert_eq!(field_errors(&body), ["attendees"]);

    let mut twice: Vec<Value> = (0..2).map(attendee).collect();
    twice[1]["email"] = twice[0]["email"].clone();
    let mut third = attendee(2);
    third["preferred_contact"] = json!("fax");
    twice.push(third);
    let (_, body) = api.create(&group(&api, &clinician, twice)).await;
    assert_eq!(
        field_errors(&body),
        ["attendees[1].email", "attendees[2].preferred_contact"]
    );

    let (_, body) = api.create(&group(&api, "", vec![attendee(0)])).await;
    assert_eq!(field_errors(&body), ["clinician_id"]);

    let mut with_patient = group(&api, &clinician, vec![attendee(0)]);
    with_patient["patient"] = api.booking()["patient"].clone();
    let (status, body) = api.create(&with_patient).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body), ["patient"]);

    let mut not_group = api.booking();
    not_group["attendees"] = json!([attendee(0)]);
    let (_, body) = api.create(&not_group).await;
    assert_eq!(field_errors(&body), ["attendees"]);
}
