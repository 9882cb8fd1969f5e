//! The people, the organisation, the encounter, the notes and the chat of a bundle, each a
//! FHIR R4 resource with its UK Core profile (see `../shared/reference/fhir.md`).

use haven_domain::consultation::{AttendeeRole, Kind, Outcome};
use haven_domain::time::OffsetDateTime;
use haven_domain::time::format_description::well_known::Rfc3339;
use haven_store::consultations::Attendee;
use haven_store::record::{ChatLine, Stay};
use serde_json::{Value, json};

use super::RecordInput;
use super::build::Refs;
use super::scope::Scope;

pub(super) const SNOMED: &str = "http://snomed.info/sct";
pub(super) const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
pub(super) const PARTICIPATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
const PARTICIPANT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/participant-type";
const NHS_NUMBER: &str = "https://fhir.nhs.uk/Id/nhs-number";
pub(super) const URI: &str = "urn:ietf:rfc:3986";

/// The UK Core profile of a resource type.
pub(super) fn profile(resource: &str) -> Value {
    json!({ "profile": [format!("https://fhir.hl7.org.uk/StructureDefinition/UKCore-{resource}")] })
}

/// A FHIR instant or dateTime, in UTC.
pub(super) fn instant(t: OffsetDateTime) -> String {
    t.to_offset(haven_domain::time::UtcOffset::UTC)
        .format(&Rfc3339)
        .expect("every stored time is within the years RFC 3339 can write")
}

pub(super) fn reference(url: &str) -> Value {
    json!({ "reference": url })
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code, "display": display }] })
}

/// A narrative: each line of `lines` a paragraph, escaped.
pub(super) fn narrative<S: AsRef<str>>(lines: &[S]) -> Value {
    let mut div = String::from("<div xmlns=\"http://www.w3.org/1999/xhtml\">");
    for line in lines {
        div.push_str("<p>");
        for ch in line.as_ref().chars() {
            match ch {
                '&' => div.push_str("&amp;"),
                '<' => div.push_str("&lt;"),
                '>' => div.push_str("&gt;"),
                '"' => div.push_str("&quot;"),
                c if c.is_control() => div.push(' '),
                c => div.push(c),
            }
        }
        div.push_str("</p>");
    }
    div.push_str("</div>");
    json!({ "status": "generated", "div": div })
}

/// A person's name: the whole as written, the last word as family name, the rest given.
fn human_name(name: &str) -> Value {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.split_last() {
        Some((family, given)) if !given.is_empty() => {
            json!([{ "text": name, "family": family, "given": given }])
        }
        _ => json!([{ "text": name }]),
    }
}

/// The patient: name and date of birth from the booking (for a group attendee, what they
/// confirmed on joining), and the NHS number when known.
pub(super) fn patient(input: &RecordInput, patient: &Attendee) -> Value {
    let booked = input
        .consultation
        .patient
        .as_ref()
        .filter(|_| input.consultation.kind != Kind::Group);
    let name = booked.map_or(patient.name.as_str(), |b| b.name.as_str());
    let dob = booked
        .map(|b| b.dob)
        .or(patient.confirmed.as_ref().and_then(|c| c.dob));
    let mut r = json!({
        "resourceType": "Patient",
        "meta": profile("Patient"),
        "name": human_name(name),
    });
    if let Some(nhs) = booked.and_then(|b| b.nhs_number.as_ref()) {
        r["identifier"] = json!([{ "system": NHS_NUMBER, "value": nhs.as_str() }]);
    }
    if let Some(dob) = dob {
        r["birthDate"] = json!(dob.iso());
    }
    r
}

/// The conditional-create search that keeps the record system from making a second
/// patient for an NHS number it already knows.
pub(super) fn patient_match(input: &RecordInput) -> Option<String> {
    let booked = input.consultation.patient.as_ref()?;
    if input.consultation.kind == Kind::Group {
        return None;
    }
    let nhs = booked.nhs_number.as_ref()?;
    Some(format!("identifier={NHS_NUMBER}|{}", nhs.as_str()))
}

pub(super) fn organization(input: &RecordInput) -> Value {
    json!({
        "resourceType": "Organization",
        "meta": profile("Organization"),
        "identifier": [{ "system": URI, "value": super::urn_uuid(&format!("organisation/{}", input.org.0)) }],
        "name": input.org.1.as_str(),
    })
}

/// A practitioner: a member of staff (by account) or a professional interpreter (by
/// invitation).
pub(super) fn practitioner(identity: &str, name: &str) -> Value {
    json!({
        "resourceType": "Practitioner",
        "meta": profile("Practitioner"),
        "identifier": [{ "system": URI, "value": super::urn_uuid(identity) }],
        "name": human_name(name),
    })
}

/// A carer or family member, or a parent or guardian, related to the patient.
pub(super) fn related_person(refs: &Refs, name: Option<&str>, relationship: Value) -> Value {
    let mut r = json!({
        "resourceType": "RelatedPerson",
        "meta": profile("RelatedPerson"),
        "patient": reference(&refs.patient()),
        "relationship": [relationship],
    });
    if let Some(name) = name {
        r["name"] = human_name(name);
    }
    r
}

pub(super) fn carer_relationship() -> Value {
    let mut c = coding(SNOMED, "133932002", "Caregiver");
    c["text"] = json!("Carer or family member");
    c
}

/// From the first admission to the last leaving; open at the end while a stay is open.
fn period<'a>(stays: impl Iterator<Item = &'a Stay>, end: Option<OffsetDateTime>) -> Value {
    let stays: Vec<&Stay> = stays.collect();
    let mut p = json!({});
    if let Some(start) = stays.iter().map(|s| s.admitted_at).min() {
        p["start"] = json!(instant(start));
    }
    let left = if stays.iter().all(|s| s.left_at.is_some()) {
        stays.iter().filter_map(|s| s.left_at).max()
    } else {
        None
    };
    if let Some(end) = left.or(end) {
        p["end"] = json!(instant(end));
    }
    p
}

fn participant(kind: Value, individual: &str, period: Value) -> Value {
    let mut p = json!({ "type": [kind], "individual": reference(individual) });
    if period.as_object().is_some_and(|o| !o.is_empty()) {
        p["period"] = period;
    }
    p
}

/// The encounter: virtual, typed by kind and outcome, from the patient's first admission
/// to the end, with the staff and the patient's own companions.
pub(super) fn encounter(input: &RecordInput, scope: &Scope<'_>, refs: &Refs) -> Value {
    let c = &input.consultation;
    let (code, display) = if c.outcome == Some(Outcome::ConvertedToTelephone) {
        ("386472008", "Telephone consultation")
    } else if c.kind == Kind::Group {
        (
            "1323941000000101",
            "Group consultation via video conference",
        )
    } else {
        ("719410009", "Consultation via video conference")
    };
    let mut participants = Vec::new();
    for (i, s) in refs.staff().iter().enumerate() {
        let (code, display) = if i == 0 {
            ("PPRF", "primary performer")
        } else {
            ("SPRF", "secondary performer")
        };
        let stays = scope
            .staff_attendees
            .iter()
            .filter(|a| a.user_id.as_ref() == Some(&s.id))
            .flat_map(|a| scope.stays_of(&a.id).copied());
        participants.push(participant(
            coding(PARTICIPATION, code, display),
            &refs.practitioner(&s.id),
            period(stays, None),
        ));
    }
    for a in &scope.companions {
        let kind = if a.role == AttendeeRole::Interpreter {
            coding(PARTICIPANT_TYPE, "translator", "Translator")
        } else {
            coding(PARTICIPATION, "PART", "Participation")
        };
        let stays = scope.stays_of(&a.id).copied();
        participants.push(participant(
            kind,
            &refs.attendee(&a.id),
            period(stays, None),
        ));
    }
    // From the patient's first admission (by the register, or by their journey before
    // the register kept stays) to the end: the consultation's, or for a group attendee
    // their own leaving.
    let own: Vec<&Stay> = scope.stays_of(&scope.patient.id).copied().collect();
    let first = own.iter().map(|s| s.admitted_at).min().or_else(|| {
        input
            .admitted
            .iter()
            .find(|(a, _)| *a == scope.patient.id)
            .map(|(_, at)| *at)
    });
    let left = own.iter().map(|s| s.left_at).collect::<Option<Vec<_>>>();
    let end = match left {
        Some(left) if c.kind == Kind::Group && !left.is_empty() => left.into_iter().max(),
        _ => c.ended_at,
    };
    let mut span = json!({});
    if let Some(first) = first {
        span["start"] = json!(instant(first));
    }
    if let Some(end) = end {
        span["end"] = json!(instant(end));
    }
    let mut r = json!({
        "resourceType": "Encounter",
        "meta": profile("Encounter"),
        "identifier": [{ "system": URI, "value": refs.url("encounter-identifier") }],
        "status": "finished",
        "class": { "system": ACT_CODE, "code": "VR", "display": "virtual" },
        "type": [coding(SNOMED, code, display)],
        "subject": reference(&refs.patient()),
        "serviceProvider": reference(&refs.organisation()),
    });
    if !participants.is_empty() {
        r["participant"] = json!(participants);
    }
    if span.as_object().is_some_and(|o| !o.is_empty()) {
        r["period"] = span;
    }
    r
}

fn outcome_words(o: Outcome) -> &'static str {
    match o {
        Outcome::Completed => "Completed by video",
        Outcome::ConvertedToTelephone => "Converted to a telephone consultation",
        Outcome::DidNotAttend => "Did not attend",
        Outcome::TechnicalFailure => "Could not take place: technical failure",
    }
}

/// The notes as a composition: the outcome, the clinician's notes and, for a group
/// attendee, their own attendance.
pub(super) fn composition(input: &RecordInput, scope: &Scope<'_>, refs: &Refs) -> Value {
    let c = &input.consultation;
    let notes = input.notes.as_ref();
    let (status, date) = match notes.and_then(|n| n.finished.as_ref()) {
        Some((_, at)) => ("final", *at),
        None => ("preliminary", input.built_at),
    };
    let authors: Vec<Value> = match notes {
        Some(n) => {
            let by = n.finished.as_ref().map_or(&n.updated_by, |(by, _)| by);
            vec![reference(&refs.practitioner(by))]
        }
        None => vec![reference(&refs.organisation())],
    };
    let outcome = c.outcome.map_or("Not recorded", outcome_words);
    let mut outcome_lines = vec![outcome.to_string()];
    if let Some(note) = c.outcome_note.as_deref().filter(|n| !n.trim().is_empty()) {
        outcome_lines.push(note.to_string());
    }
    let body: Vec<&str> = notes
        .map(|n| n.body.lines().filter(|l| !l.trim().is_empty()).collect())
        .unwrap_or_default();
    let body = if body.is_empty() {
        vec!["No notes were written."]
    } else {
        body
    };
    let mut sections = vec![
        json!({ "title": "Outcome", "text": narrative(&outcome_lines) }),
        json!({ "title": "Notes", "text": narrative(&body) }),
    ];
    if c.kind == Kind::Group {
        let lines: Vec<String> = scope
            .stays_of(&scope.patient.id)
            .map(|s| match s.left_at {
                Some(left) => format!(
                    "In the group from {} to {}",
                    instant(s.admitted_at),
                    instant(left)
                ),
                None => format!("In the group from {}", instant(s.admitted_at)),
            })
            .collect();
        let lines = if lines.is_empty() {
            vec!["Not admitted to the group".to_string()]
        } else {
            lines
        };
        sections.push(json!({ "title": "Attendance", "text": narrative(&lines) }));
    }
    json!({
        "resourceType": "Composition",
        "meta": profile("Composition"),
        "identifier": { "system": URI, "value": refs.url("composition-identifier") },
        "status": status,
        "type": coding(SNOMED, "371530004", "Clinical consultation report"),
        "subject": reference(&refs.patient()),
        "encounter": reference(&refs.encounter()),
        "date": instant(date),
        "author": authors,
        "title": "Video consultation notes",
        "custodian": reference(&refs.organisation()),
        "section": sections,
    })
}

/// One kept chat message, from whoever in the bundle sent it.
pub(super) fn communication(line: &ChatLine, sender: Option<String>, refs: &Refs) -> Value {
    let mut r = json!({
        "resourceType": "Communication",
        "meta": profile("Communication"),
        "status": "completed",
        "subject": reference(&refs.patient()),
        "encounter": reference(&refs.encounter()),
        "sent": instant(line.sent_at),
        "payload": [{ "contentString": line.body }],
    });
    if let Some(sender) = sender {
        r["sender"] = reference(&sender);
    }
    r
}
