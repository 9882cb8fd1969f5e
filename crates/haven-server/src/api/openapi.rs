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

/// Characters a name must not hold: controls other than whitespace (which is collapsed)
/// and text-direction overrides.
const NAME_REFUSED: &str =
    r"\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f\u202a-\u202e\u2066-\u2069";

/// A person to book: the patient of a consultation (with `child_attendance`) or a group
/// attendee (16 or over, so without). Blank strings count as not given.
fn new_person(patient: bool) -> Value {
    let name_pattern = format!("^[^{NAME_REFUSED}]*[^\\s{NAME_REFUSED}][^{NAME_REFUSED}]*$");
    let mut person = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "date_of_birth", "preferred_contact"],
        "properties": {
            "name": { "type": "string", "minLength": 1, "maxLength": 100, "pattern": name_pattern, "description": "Up to 100 characters once runs of spaces are collapsed; no control characters." },
            "date_of_birth": { "type": "string", "format": "date", "description": "In the past and within the last 130 years." },
            "nhs_number": { "type": ["string", "null"], "pattern": r"^\s*$|^\s*[ -]*(?:[0-9][ -]*){10}\s*$", "description": "Ten digits with a valid check digit; spaces allowed." },
            "mobile": { "type": ["string", "null"], "pattern": MOBILE_PATTERN, "description": "A UK mobile number." },
            "email": { "type": ["string", "null"], "format": "email" },
            "preferred_contact": { "$ref": "#/components/schemas/Contact" }
        },
        // An invitation needs the address it goes to.
        "allOf": [contact_needs("sms", "mobile"), contact_needs("email", "email")]
    });
    if patient {
        person["properties"]["child_attendance"] = json!({ "oneOf": [{ "$ref": "#/components/schemas/ChildAttendance" }, { "type": "null" }], "description": "Required when the patient is under 16 on the day." });
    }
    person
}

/// A UK mobile number as written in the UK (07…) or internationally (+44 7…); blank
/// means none. Haven also reads other spacings and punctuation.
const MOBILE_PATTERN: &str = r"^\s*$|^(?:\+44 ?|0)7(?:[1-57-9][0-9]{2}|624) ?[0-9]{6}$";

/// When `preferred_contact` is `contact`, `field` must be given (not blank).
fn contact_needs(contact: &str, field: &str) -> Value {
    json!({
        "if": { "properties": { "preferred_contact": { "const": contact } }, "required": ["preferred_contact"] },
        "then": { "required": [field], "properties": { field: { "type": "string", "pattern": r"\S" } } }
    })
}

/// What each kind of consultation needs: a patient for one to one and with a carer; none
/// for a colleague meeting or a group; a group has its host and 1 to 30 attendees, and
/// only a group has attendees or co-hosts.
fn kind_rules() -> Value {
    let when = |kinds: &[&str]| json!({ "properties": { "kind": { "enum": kinds } }, "required": ["kind"] });
    let none = json!({ "maxItems": 0 });
    json!([
        {
            "if": when(&["one_to_one", "with_carer"]),
            "then": { "required": ["patient"], "properties": { "patient": { "type": "object" }, "attendees": none, "cohost_ids": none } }
        },
        {
            "if": when(&["colleague_meeting"]),
            "then": { "properties": { "patient": { "type": "null" }, "attendees": none, "cohost_ids": none } }
        },
        {
            "if": when(&["group"]),
            "then": { "required": ["clinician_id", "attendees"], "properties": { "clinician_id": { "type": "string" }, "patient": { "type": "null" }, "attendees": { "minItems": 1 } } }
        }
    ])
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
                "starts_at": { "type": "string", "format": "date-time", "description": "RFC 3339; not more than 15 minutes in the past." },
                "kind": { "$ref": "#/components/schemas/Kind" },
                "patient": { "oneOf": [{ "$ref": "#/components/schemas/NewPatient" }, { "type": "null" }], "description": "Required unless kind is colleague_meeting or group, which have none." },
                "attendees": { "type": "array", "maxItems": 30, "items": { "$ref": "#/components/schemas/NewAttendee" }, "description": "A group's attendees, 1 to 30, each 16 or over, no mobile number or email address twice. Only for kind group." },
                "cohost_ids": { "type": "array", "items": { "type": "string", "pattern": ID_PATTERN }, "description": "A group's co-hosts besides clinician_id (required for a group): clinicians of the clinic, at most 5 hosts in all." },
                "send_invitations": { "type": "boolean", "default": true, "description": "Whether Haven sends each invitation (by the preferred contact) or the caller delivers the join links." }
            },
            "allOf": kind_rules()
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
