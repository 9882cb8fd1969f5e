//! One patient's transaction bundle, as JSON. Every reference is a `urn:uuid` `fullUrl`
//! of an entry of the same bundle; the record system creates each resource (people and
//! the organisation only if it has none with the same identifier) and resolves them.

use haven_domain::consultation::{AttendeeRole, ChildAttendance, Kind};
use haven_domain::{AttendeeId, UserId};
use serde_json::{Value, json};

use super::resources::{
    URI, carer_relationship, communication, composition, encounter, instant, organization, patient,
    patient_match, practitioner, related_person,
};
use super::scope::Scope;
use super::{RecordInput, StaffMember, consents, urn_uuid};
use crate::Error;

/// The `urn:uuid` of each resource of one patient's bundle, and the staff it names (the
/// primary performer first).
pub(super) struct Refs {
    seed: String,
    staff: Vec<StaffMember>,
}

impl Refs {
    /// The fullUrl of the resource named `key` in this bundle.
    pub fn url(&self, key: &str) -> String {
        urn_uuid(&format!("{}/{key}", self.seed))
    }
    pub fn patient(&self) -> String {
        self.url("patient")
    }
    pub fn organisation(&self) -> String {
        self.url("organisation")
    }
    pub fn encounter(&self) -> String {
        self.url("encounter")
    }
    pub fn parent(&self) -> String {
        self.url("parent")
    }
    pub fn practitioner(&self, user: &UserId) -> String {
        self.url(&format!("practitioner/{user}"))
    }
    pub fn attendee(&self, attendee: &AttendeeId) -> String {
        self.url(&format!("attendee/{attendee}"))
    }
    /// The staff named in the bundle, the primary performer first.
    pub fn staff(&self) -> &[StaffMember] {
        &self.staff
    }
}

/// The staff who belong in this bundle: the booked clinician (or whoever finished the
/// notes) first, then the notes' authors, staff attendees, whoever confirmed one of the
/// patient's agreements, and staff who wrote in the chat kept.
fn staff_of(input: &RecordInput, scope: &Scope<'_>) -> Vec<StaffMember> {
    let mut ids: Vec<&UserId> = Vec::new();
    let notes = input.notes.as_ref();
    let finisher = notes.and_then(|n| n.finished.as_ref().map(|(by, _)| by));
    ids.extend(input.consultation.clinician_id.iter());
    ids.extend(finisher);
    ids.extend(notes.map(|n| &n.updated_by));
    ids.extend(
        scope
            .staff_attendees
            .iter()
            .filter_map(|a| a.user_id.as_ref()),
    );
    ids.extend(
        scope
            .consents
            .iter()
            .filter_map(|c| c.confirmed_by.as_ref()),
    );
    ids.extend(scope.chat.iter().filter_map(|l| l.sender_user.as_ref()));
    let mut staff: Vec<StaffMember> = Vec::new();
    for id in ids {
        if staff.iter().any(|s| s.id == *id) {
            continue;
        }
        if let Some(s) = input.staff.iter().find(|s| s.id == *id) {
            staff.push(s.clone());
        }
    }
    staff
}

fn entry(url: &str, resource: Value, if_none_exist: Option<String>) -> Value {
    let kind = resource["resourceType"].clone();
    let mut request = json!({ "method": "POST", "url": kind });
    if let Some(search) = if_none_exist {
        request["ifNoneExist"] = json!(search);
    }
    json!({ "fullUrl": url, "resource": resource, "request": request })
}

/// The identifier search for a resource identified by a Haven `urn:uuid`.
fn by_identifier(resource: &Value) -> Option<String> {
    let value = resource["identifier"][0]["value"].as_str()?;
    Some(format!("identifier={URI}|{value}"))
}

/// `input`'s patient's bundle. [`Error::NotFound`] if the input's patient is not a
/// patient of its consultation.
pub fn bundle(input: &RecordInput) -> Result<Value, Error> {
    let scope = Scope::of(input)?;
    let refs = Refs {
        seed: format!("{}/{}", input.consultation.id, scope.patient.id),
        staff: staff_of(input, &scope),
    };
    let mut entries = vec![
        entry(
            &refs.patient(),
            patient(input, scope.patient),
            patient_match(input),
        ),
        {
            let org = organization(input);
            let search = by_identifier(&org);
            entry(&refs.organisation(), org, search)
        },
    ];
    for s in &refs.staff {
        let r = practitioner(&format!("user/{}", s.id), s.name.as_str());
        let search = by_identifier(&r);
        entries.push(entry(&refs.practitioner(&s.id), r, search));
    }
    for a in &scope.companions {
        let r = if a.role == AttendeeRole::Interpreter {
            practitioner(&format!("attendee/{}", a.id), a.name.as_str())
        } else {
            related_person(&refs, Some(a.name.as_str()), carer_relationship())
        };
        entries.push(entry(&refs.attendee(&a.id), r, None));
    }
    let child = input
        .consultation
        .patient
        .as_ref()
        .filter(|_| input.consultation.kind != Kind::Group)
        .and_then(|p| p.child_attendance);
    if child == Some(ChildAttendance::WithParentOrGuardian) {
        let relationship = json!({ "text": "Parent or guardian" });
        let r = related_person(&refs, None, relationship);
        entries.push(entry(&refs.parent(), r, None));
    }
    entries.push(entry(
        &refs.encounter(),
        encounter(input, &scope, &refs),
        None,
    ));
    for a in consents::agreements(input, &scope, &refs) {
        entries.push(entry(&refs.url(&a.key), consents::consent(&a, &refs), None));
    }
    entries.push(entry(
        &refs.url("composition"),
        composition(input, &scope, &refs),
        None,
    ));
    for line in &scope.chat {
        let sender = match (&line.sender_attendee, &line.sender_user) {
            (Some(a), _) if *a == scope.patient.id => Some(refs.patient()),
            (Some(a), _) => match scope.staff_attendees.iter().find(|s| s.id == *a) {
                Some(s) => s.user_id.as_ref().map(|u| refs.practitioner(u)),
                None => Some(refs.attendee(a)),
            },
            (None, Some(u)) => Some(refs.practitioner(u)),
            (None, None) => None,
        };
        let r = communication(line, sender, &refs);
        entries.push(entry(&refs.url(&format!("chat/{}", line.seq)), r, None));
    }
    Ok(json!({
        "resourceType": "Bundle",
        "identifier": { "system": URI, "value": refs.url("bundle") },
        "type": "transaction",
        "timestamp": instant(input.built_at),
        "entry": entries,
    }))
}

#[cfg(test)]
mod tests;
