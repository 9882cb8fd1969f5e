use serde_json::Value;

use super::bundle;
use crate::record::examples::{self, SCENARIOS, scenario};

fn built(name: &str) -> Value {
    bundle(&scenario(name).expect("a known scenario")).expect("the scenario's patient is a patient")
}

/// The resources of one type in a bundle.
fn all(b: &Value, kind: &str) -> Vec<Value> {
    b["entry"]
        .as_array()
        .expect("a bundle has entries")
        .iter()
        .map(|e| e["resource"].clone())
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

fn one(b: &Value, kind: &str) -> Value {
    let list = all(b, kind);
    assert_eq!(list.len(), 1, "one {kind}");
    list.into_iter().next().unwrap()
}

/// The fullUrl of the entry whose resource satisfies `pick`.
fn url_of(b: &Value, pick: impl Fn(&Value) -> bool) -> String {
    b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| pick(&e["resource"]))
        .map(|e| e["fullUrl"].as_str().unwrap().to_string())
        .expect("an entry")
}

fn named(r: &Value, text: &str) -> bool {
    r["name"][0]["text"] == text
}

#[test]
fn a_one_to_one_encounter_is_virtual_video_from_admission_to_the_end() {
    let b = built("one_to_one");
    assert_eq!(b["type"], "transaction");
    let e = one(&b, "Encounter");
    assert_eq!(e["status"], "finished");
    assert_eq!(e["class"]["code"], "VR");
    assert_eq!(
        e["class"]["system"],
        "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    );
    assert_eq!(e["type"][0]["coding"][0]["code"], "719410009");
    assert_eq!(
        e["type"][0]["coding"][0]["system"],
        "http://snomed.info/sct"
    );
    assert_eq!(e["period"]["start"], "2026-03-02T10:00:00Z");
    assert_eq!(e["period"]["end"], "2026-03-02T10:45:00Z");
    let primary = &e["participant"][0];
    assert_eq!(primary["type"][0]["coding"][0]["code"], "PPRF");
    let doctor = url_of(&b, |r| {
        r["resourceType"] == "Practitioner" && named(r, "Ada Lovelace")
    });
    assert_eq!(primary["individual"]["reference"], doctor.as_str());
    assert_eq!(
        e["subject"]["reference"],
        url_of(&b, |r| r["resourceType"] == "Patient").as_str()
    );
}

#[test]
fn the_patient_carries_the_nhs_number_and_booked_details() {
    let b = built("one_to_one");
    let p = one(&b, "Patient");
    assert_eq!(
        p["identifier"][0]["system"],
        "https://fhir.nhs.uk/Id/nhs-number"
    );
    assert_eq!(p["identifier"][0]["value"], "9990000018");
    assert_eq!(p["name"][0]["family"], "Patient");
    assert_eq!(p["birthDate"], "1984-03-27");
    let request = &b["entry"][0]["request"];
    assert_eq!(
        request["ifNoneExist"],
        "identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018"
    );

    let b = built("without_nhs_number");
    let p = one(&b, "Patient");
    assert!(p.get("identifier").is_none(), "{p}");
    assert!(b["entry"][0]["request"].get("ifNoneExist").is_none());
    assert_eq!(p["birthDate"], "1984-03-27");
}

#[test]
fn joining_is_recorded_as_implied_consent_by_the_patient() {
    let b = built("one_to_one");
    let c = one(&b, "Consent");
    let patient = url_of(&b, |r| r["resourceType"] == "Patient");
    assert_eq!(c["performer"][0]["reference"], patient.as_str());
    assert_eq!(c["patient"]["reference"], patient.as_str());
    assert_eq!(c["dateTime"], "2026-03-02T09:55:00Z");
    assert_eq!(c["scope"]["coding"][0]["code"], "patient-privacy");
    assert_eq!(c["category"][0]["coding"][0]["code"], "INFA");
    assert_eq!(c["provision"]["type"], "permit");
    assert_eq!(c["provision"]["action"][0]["coding"][0]["code"], "collect");
    assert!(
        c["policyRule"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Implied consent")
    );
}

#[test]
fn a_carers_presence_names_who_confirmed_it_and_the_interpreter_is_a_translator() {
    let b = built("carer_and_interpreter");
    let carer = url_of(&b, |r| {
        r["resourceType"] == "RelatedPerson" && named(r, "Chris Carer")
    });
    let interpreter = url_of(&b, |r| {
        r["resourceType"] == "Practitioner" && named(r, "Ines Interpreter")
    });
    let doctor = url_of(&b, |r| {
        r["resourceType"] == "Practitioner" && named(r, "Ada Lovelace")
    });
    let consents = all(&b, "Consent");
    assert_eq!(
        consents.len(),
        2,
        "implied consent and the carer's presence"
    );
    let presence = consents
        .iter()
        .find(|c| c["provision"]["actor"][0]["reference"]["reference"] == carer.as_str())
        .expect("a consent about the carer");
    assert_eq!(presence["performer"][1]["reference"], doctor.as_str());
    assert_eq!(presence["verification"][0]["verified"], true);
    let e = one(&b, "Encounter");
    let parts = e["participant"].as_array().unwrap();
    let of = |url: &str| {
        parts
            .iter()
            .find(|p| p["individual"]["reference"] == url)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        of(&interpreter)["type"][0]["coding"][0]["code"],
        "translator"
    );
    assert_eq!(of(&carer)["type"][0]["coding"][0]["code"], "PART");
    assert_eq!(of(&carer)["period"]["start"], "2026-03-02T10:02:00Z");
    assert_eq!(of(&carer)["period"]["end"], "2026-03-02T10:25:00Z");
}

#[test]
fn a_parent_consents_for_a_child() {
    let b = built("child_with_parent");
    let parent = url_of(&b, |r| r["resourceType"] == "RelatedPerson");
    let consents = all(&b, "Consent");
    let by_parent = consents
        .iter()
        .find(|c| c["performer"][0]["reference"] == parent.as_str())
        .expect("a consent given by the parent");
    assert!(
        by_parent["policyRule"]["text"]
            .as_str()
            .unwrap()
            .contains("under 16")
    );
    assert_eq!(one(&b, "Patient")["birthDate"], "2016-05-04");
}

#[test]
fn a_consultation_converted_to_telephone_is_typed_as_one() {
    let b = built("converted_to_telephone");
    let e = one(&b, "Encounter");
    assert_eq!(e["type"][0]["coding"][0]["code"], "386472008");
    assert_eq!(e["class"]["code"], "VR");
    let text = one(&b, "Composition")["section"][0]["text"]["div"].to_string();
    assert!(
        text.contains("Converted to a telephone consultation"),
        "{text}"
    );
}

#[test]
fn a_group_attendees_bundle_holds_nothing_about_any_other_attendee() {
    let b = built("group_attendee");
    let text = b.to_string();
    for absent in [
        "Olive",
        "Otherperson",
        "Oscar",
        "Othercarer",
        examples::other_patient().as_str(),
        examples::other_carer().as_str(),
        "knee",
    ] {
        assert!(!text.contains(absent), "{absent} is in the bundle");
    }
    let e = one(&b, "Encounter");
    assert_eq!(e["type"][0]["coding"][0]["code"], "1323941000000101");
    // Their own stays: from their first admission to their last leaving.
    assert_eq!(e["period"]["start"], "2026-03-02T10:00:00Z");
    assert_eq!(e["period"]["end"], "2026-03-02T10:40:00Z");
    // Their own companion and agreements only.
    assert_eq!(all(&b, "RelatedPerson").len(), 1);
    let consents = all(&b, "Consent");
    assert_eq!(consents.len(), 3, "implied, ground rules, carer's presence");
    assert!(consents.iter().any(|c| {
        c["policyRule"]["text"]
            .as_str()
            .unwrap()
            .contains("ground rules")
    }));
    // The register: their two stays.
    let register = one(&b, "Composition")["section"][2].clone();
    assert_eq!(register["title"], "Attendance");
    let div = register["text"]["div"].as_str().unwrap();
    assert_eq!(div.matches("In the group from").count(), 2, "{div}");
    // Chat: their own line and the clinician's, not the other attendee's.
    assert_eq!(all(&b, "Communication").len(), 2);
    // The host is a practitioner of the encounter, with their own time in the call.
    let host = url_of(&b, |r| {
        r["resourceType"] == "Practitioner" && named(r, "Hana Host")
    });
    let parts = e["participant"].as_array().unwrap();
    let host_part = parts
        .iter()
        .find(|p| p["individual"]["reference"] == host.as_str())
        .unwrap();
    assert_eq!(host_part["type"][0]["coding"][0]["code"], "SPRF");
    assert_eq!(host_part["period"]["end"], "2026-03-02T10:45:00Z");
}

#[test]
fn saved_chat_becomes_communications_from_their_senders() {
    let b = built("saved_chat");
    let lines = all(&b, "Communication");
    assert_eq!(lines.len(), 2);
    let doctor = url_of(&b, |r| r["resourceType"] == "Practitioner");
    let patient = url_of(&b, |r| r["resourceType"] == "Patient");
    assert_eq!(lines[0]["sender"]["reference"], doctor.as_str());
    assert_eq!(lines[1]["sender"]["reference"], patient.as_str());
    assert_eq!(
        lines[1]["payload"][0]["contentString"],
        "Thank you <b>very</b> much & goodbye"
    );
    assert_eq!(
        lines[0]["encounter"]["reference"],
        url_of(&b, |r| r["resourceType"] == "Encounter").as_str()
    );
}

#[test]
fn the_notes_are_a_final_composition_with_escaped_text() {
    let mut input = scenario("one_to_one").unwrap();
    input.notes.as_mut().unwrap().body = "Said <script> & \"left\"\n\nReview".into();
    let c = one(&bundle(&input).unwrap(), "Composition");
    assert_eq!(c["status"], "final");
    assert_eq!(c["type"]["coding"][0]["code"], "371530004");
    let div = c["section"][1]["text"]["div"].as_str().unwrap();
    assert_eq!(
        div,
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Said &lt;script&gt; &amp; &quot;left&quot;</p><p>Review</p></div>"
    );
}

#[test]
fn every_reference_resolves_inside_the_bundle_and_ids_are_stable() {
    for name in SCENARIOS {
        let b = built(name);
        assert_eq!(b, built(name), "{name} is built the same way twice");
        let urls: Vec<String> = b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["fullUrl"].as_str().unwrap().to_string())
            .collect();
        let mut refs = Vec::new();
        collect_references(&b, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            assert!(urls.contains(&r), "{name}: {r} does not resolve");
        }
    }
}

fn collect_references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("reference") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_references(v, out));
        }
        Value::Array(list) => list.iter().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

#[test]
fn a_bundle_for_someone_who_is_not_a_patient_is_not_found() {
    let mut input = scenario("carer_and_interpreter").unwrap();
    input.patient = examples::carer();
    assert!(matches!(bundle(&input), Err(crate::Error::NotFound)));
}
