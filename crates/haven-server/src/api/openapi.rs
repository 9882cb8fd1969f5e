//! The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`. Tests check
//! real responses against its schemas, and `scripts/test` runs schemathesis against it.

use axum::Json;
use serde_json::{Value, json};

/// `GET /api/v1/openapi.json`.
pub async fn serve() -> Json<Value> {
    Json(document())
}

fn nullable(kind: &str) -> Value {
    json!({ "type": [kind, "null"] })
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn consultation_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Consultation" } } }
    })
}

/// A booking's answer leads to reading and cancelling it (OpenAPI links, which contract
/// testers follow to reach those operations with real ids).
fn created_response() -> Value {
    let mut response = consultation_response("Booked. Each participant has `join_link`.");
    response["links"] = json!({
        "GetConsultation": {
            "operationId": "getConsultation",
            "parameters": { "id": "$response.body#/id" }
        },
        "CancelConsultation": {
            "operationId": "cancelConsultation",
            "parameters": { "id": "$response.body#/id" }
        }
    });
    response
}

const ID_PATTERN: &str = "^[0-9a-f]{32}$";

/// The whole document.
pub fn document() -> Value {
    let id_param = json!({
        "name": "id", "in": "path", "required": true,
        "description": "The consultation's id.",
        "schema": { "type": "string" }
    });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Haven booking API",
            "version": "1",
            "description": "Book, read and cancel video consultations. Authenticate with an \
                organisation API key (`haven admin api-key create`) as a bearer token; every \
                call acts for that organisation only."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "apiKey": [] }],
        "paths": {
            "/api/v1/consultations": {
                "post": {
                    "operationId": "createConsultation",
                    "summary": "Book a consultation; the answer carries each participant's join link (shown once).",
                    "requestBody": {
                        "required": true,
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewConsultation" } } }
                    },
                    "responses": {
                        "201": created_response(),
                        "400": error_response("The body is not JSON of the right shape."),
                        "401": error_response("No API key, or one that is not live."),
                        "422": error_response("Some fields have bad values; `fields` lists each.")
                    }
                }
            },
            "/api/v1/consultations/{id}": {
                "get": {
                    "operationId": "getConsultation",
                    "summary": "Read a consultation of your organisation.",
                    "parameters": [id_param],
                    "responses": {
                        "200": consultation_response("The consultation (without join links)."),
                        "401": error_response("No API key, or one that is not live."),
                        "404": error_response("No consultation of your organisation has this id.")
                    }
                }
            },
            "/api/v1/consultations/{id}/cancel": {
                "post": {
                    "operationId": "cancelConsultation",
                    "summary": "Cancel a consultation that has not started; its links stop working. Cancelling twice is harmless.",
                    "parameters": [id_param],
                    "responses": {
                        "200": consultation_response("Cancelled (now or before)."),
                        "401": error_response("No API key, or one that is not live."),
                        "404": error_response("No consultation of your organisation has this id."),
                        "409": error_response("It has started or is over, so it cannot be cancelled.")
                    }
                }
            }
        },
        "components": {
            "securitySchemes": {
                "apiKey": { "type": "http", "scheme": "bearer", "description": "An organisation API key, `haven_…`." }
            },
            "schemas": schemas()
        }
    })
}

/// A person to book: the patient of a consultation (with `child_attendance`) or a group
/// attendee (16 or over, so without).
fn new_person(patient: bool) -> Value {
    let mut person = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "date_of_birth", "preferred_contact"],
        "properties": {
            "name": { "type": "string" },
            "date_of_birth": { "type": "string", "format": "date" },
            "nhs_number": { "type": ["string", "null"], "description": "Ten digits with a valid check digit; spaces allowed." },
            "mobile": { "type": ["string", "null"], "description": "A UK mobile number." },
            "email": { "type": ["string", "null"] },
            "preferred_contact": { "$ref": "#/components/schemas/Contact" }
        }
    });
    if patient {
        person["properties"]["child_attendance"] = json!({ "oneOf": [{ "$ref": "#/components/schemas/ChildAttendance" }, { "type": "null" }], "description": "Required when the patient is under 16 on the day." });
    }
    person
}

fn schemas() -> Value {
    json!({
        "NewConsultation": {
            "type": "object",
            "additionalProperties": false,
            "required": ["clinic_id", "starts_at", "kind"],
            "properties": {
                "clinic_id": { "type": "string", "pattern": ID_PATTERN, "description": "One of your organisation's clinics (`haven admin clinic list` prints their ids)." },
                "clinician_id": { "type": ["string", "null"], "pattern": ID_PATTERN },
                "starts_at": { "type": "string", "format": "date-time", "description": "RFC 3339." },
                "kind": { "$ref": "#/components/schemas/Kind" },
                "patient": { "$ref": "#/components/schemas/NewPatient", "description": "Required unless kind is colleague_meeting or group, which have none." },
                "attendees": { "type": "array", "maxItems": 30, "items": { "$ref": "#/components/schemas/NewAttendee" }, "description": "A group's attendees, 1 to 30, each 16 or over, no mobile number or email address twice. Only for kind group." },
                "cohost_ids": { "type": "array", "items": { "type": "string", "pattern": ID_PATTERN }, "description": "A group's co-hosts besides clinician_id (required for a group): clinicians of the clinic, at most 5 hosts in all." },
                "send_invitations": { "type": "boolean", "default": true, "description": "Whether Haven sends each invitation (by the preferred contact) or the caller delivers the join links." }
            }
        },
        "NewPatient": new_person(true),
        "NewAttendee": new_person(false),
        "Consultation": {
            "type": "object",
            "additionalProperties": false,
            "required": ["id", "status", "kind", "clinic_id", "clinician_id", "starts_at", "created_at", "ended_at", "outcome", "patient", "participants", "host_ids"],
            "properties": {
                "id": { "type": "string", "pattern": ID_PATTERN },
                "status": { "type": "string", "enum": ["booked", "invited", "waiting", "in_progress", "ended", "cancelled", "did_not_attend"] },
                "kind": { "$ref": "#/components/schemas/Kind" },
                "clinic_id": { "type": "string", "pattern": ID_PATTERN },
                "clinician_id": nullable("string"),
                "starts_at": { "type": "string", "format": "date-time" },
                "created_at": { "type": "string", "format": "date-time" },
                "ended_at": { "type": ["string", "null"], "format": "date-time" },
                "outcome": { "type": ["string", "null"], "enum": ["completed", "converted_to_telephone", "did_not_attend", "technical_failure", null] },
                "patient": {
                    "oneOf": [{ "type": "null" }, {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["name", "date_of_birth", "nhs_number", "child_attendance"],
                        "properties": {
                            "name": { "type": "string" },
                            "date_of_birth": { "type": "string", "format": "date" },
                            "nhs_number": { "type": ["string", "null"], "pattern": "^[0-9]{10}$" },
                            "child_attendance": { "oneOf": [{ "$ref": "#/components/schemas/ChildAttendance" }, { "type": "null" }] }
                        }
                    }]
                },
                "participants": { "type": "array", "items": { "$ref": "#/components/schemas/Participant" } },
                "host_ids": { "type": "array", "items": { "type": "string", "pattern": ID_PATTERN }, "description": "A group's hosts, the clinician first; empty for other kinds." }
            }
        },
        "Participant": {
            "type": "object",
            "additionalProperties": false,
            "required": ["id", "role", "name", "mobile", "email", "preferred_contact"],
            "properties": {
                "id": { "type": "string", "pattern": ID_PATTERN },
                "role": { "type": "string", "enum": ["patient", "carer", "interpreter", "colleague"] },
                "name": { "type": "string" },
                "mobile": { "type": ["string", "null"], "description": "E.164, +447…" },
                "email": nullable("string"),
                "preferred_contact": { "$ref": "#/components/schemas/Contact" },
                "join_link": { "type": "string", "format": "uri", "description": "Only in the answer to createConsultation." },
                "date_of_birth": { "type": "string", "format": "date", "description": "A group attendee's, as booked." },
                "nhs_number": { "type": ["string", "null"], "pattern": "^[0-9]{10}$", "description": "A group attendee's, when known." }
            }
        },
        "Kind": { "type": "string", "enum": ["one_to_one", "with_carer", "group", "colleague_meeting"] },
        "Contact": { "type": "string", "enum": ["sms", "email"] },
        "ChildAttendance": { "type": "string", "enum": ["with_parent_or_guardian", "alone_competent"] },
        "Error": {
            "type": "object",
            "additionalProperties": false,
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["code", "message"],
                    "properties": {
                        "code": { "type": "string", "enum": ["unauthenticated", "malformed", "invalid", "not_found", "conflict", "internal"] },
                        "message": { "type": "string" },
                        "fields": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": false,
                                "required": ["field", "message"],
                                "properties": { "field": { "type": "string" }, "message": { "type": "string" } }
                            }
                        }
                    }
                }
            }
        }
    })
}
