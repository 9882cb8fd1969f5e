//! The patient's agreements as `Consent` resources: implied consent on joining (when they
//! confirmed their details), a parent's consent for a child or a competent young person's
//! own decision (from the booking), and the agreements recorded in the call (a carer's
//! presence with who confirmed it, the group's ground rules, recording).
//!
//! Each has the scope `patient-privacy`, the category `INFA`, a `policyRule` (invariant
//! ppc-1) and a permitting provision, as UK Core's example does.

use haven_domain::consultation::{ChildAttendance, ConsentKind, Kind};
use haven_domain::time::OffsetDateTime;
use haven_store::record::Consent;
use serde_json::{Value, json};

use super::RecordInput;
use super::build::Refs;
use super::resources::{ACT_CODE, PARTICIPATION, instant, profile, reference};
use super::scope::Scope;

const SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
const ACTION: &str = "http://terminology.hl7.org/CodeSystem/consentaction";

/// One agreement before it becomes a resource.
pub(super) struct Agreement {
    /// A stable key for its `urn:uuid`.
    pub key: String,
    /// When it was given.
    pub at: OffsetDateTime,
    /// Who agreed (and, after them, who confirmed it).
    pub performers: Vec<String>,
    /// What was agreed, in words.
    pub rule: &'static str,
    /// Whom it is about (a carer whose presence is agreed to).
    pub about: Option<String>,
    /// Confirmed by staff with the patient.
    pub verified: bool,
}

const IMPLIED: &str = "Implied consent: by joining the video consultation the patient agreed \
     to be seen and heard by the clinician";
const PARENT: &str =
    "A parent or guardian consented to the video consultation for a patient under 16";
const COMPETENT: &str =
    "A competent young person under 16 decided to attend the video consultation alone";
const CARER: &str = "The patient agreed to their carer or family member being present";
const GROUND_RULES: &str = "Accepted the group's ground rules: no screenshots, no recording, \
     and what is said stays in the group";
const RECORDING: &str = "Explicit consent to the consultation being recorded";

/// The patient's agreements, oldest first.
pub(super) fn agreements(input: &RecordInput, scope: &Scope<'_>, refs: &Refs) -> Vec<Agreement> {
    let mut list = Vec::new();
    if let Some(confirmed) = &scope.patient.confirmed {
        list.push(Agreement {
            key: "consent/implied".into(),
            at: confirmed.at,
            performers: vec![refs.patient()],
            rule: IMPLIED,
            about: None,
            verified: false,
        });
    }
    let child = input
        .consultation
        .patient
        .as_ref()
        .filter(|_| input.consultation.kind != Kind::Group)
        .and_then(|p| p.child_attendance);
    if let Some(child) = child {
        let (performer, rule) = match child {
            ChildAttendance::WithParentOrGuardian => (refs.parent(), PARENT),
            ChildAttendance::AloneCompetent => (refs.patient(), COMPETENT),
        };
        list.push(Agreement {
            key: "consent/child".into(),
            at: input.consultation.created_at,
            performers: vec![performer],
            rule,
            about: None,
            verified: false,
        });
    }
    for (i, c) in scope.consents.iter().enumerate() {
        list.push(recorded(i, c, scope, refs));
    }
    list.sort_by_key(|a| a.at);
    list
}

fn recorded(i: usize, c: &Consent, scope: &Scope<'_>, refs: &Refs) -> Agreement {
    let rule = match c.kind {
        ConsentKind::CarerPresence => CARER,
        ConsentKind::GroundRules => GROUND_RULES,
        ConsentKind::Recording => RECORDING,
    };
    let mut performers = vec![refs.patient()];
    if let Some(by) = &c.confirmed_by {
        performers.push(refs.practitioner(by));
    }
    let about = c
        .about
        .as_ref()
        .filter(|a| scope.companions.iter().any(|p| p.id == **a))
        .map(|a| refs.attendee(a));
    Agreement {
        key: format!("consent/{}/{i}", c.kind),
        at: c.given_at,
        performers,
        rule,
        about,
        verified: c.confirmed_by.is_some(),
    }
}

/// The `Consent` resource for one agreement.
pub(super) fn consent(a: &Agreement, refs: &Refs) -> Value {
    let mut provision = json!({
        "type": "permit",
        "action": [{ "coding": [{ "system": ACTION, "code": "collect", "display": "Collect" }] }],
    });
    if let Some(about) = &a.about {
        provision["actor"] = json!([{
            "role": { "coding": [{ "system": PARTICIPATION, "code": "IRCP", "display": "information recipient" }] },
            "reference": reference(about),
        }]);
    }
    let mut r = json!({
        "resourceType": "Consent",
        "meta": profile("Consent"),
        "status": "active",
        "scope": { "coding": [{ "system": SCOPE, "code": "patient-privacy", "display": "Privacy Consent" }] },
        "category": [{ "coding": [{ "system": ACT_CODE, "code": "INFA", "display": "information access" }] }],
        "patient": reference(&refs.patient()),
        "dateTime": instant(a.at),
        "performer": a.performers.iter().map(|p| reference(p)).collect::<Vec<_>>(),
        "organization": [reference(&refs.organisation())],
        "policyRule": { "text": a.rule },
        "provision": provision,
    });
    if a.verified {
        r["verification"] = json!([{
            "verified": true,
            "verifiedWith": reference(&refs.patient()),
            "verificationDate": instant(a.at),
        }]);
    }
    r
}
