//! Every kind of bundle Haven writes passes two validators nobody here wrote: FHIR.js (R4
//! structure and required bindings) and fhirpath.js with its R4 model (the invariants,
//! such as Consent ppc-1), run by `tests/fhir/validate.mjs`, which `scripts/test`
//! installs. A bundle broken on purpose must fail, so the validators are known to look.

use std::path::{Path, PathBuf};
use std::process::Command;

use haven_server::record::bundle;
use haven_server::record::examples::{SCENARIOS, scenario};
use serde_json::Value;

fn validator() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fhir");
    assert!(
        root.join("node_modules/fhir").is_dir() && root.join("node_modules/fhirpath").is_dir(),
        "the FHIR validators are not installed: run scripts/test, or `npm ci` in tests/fhir"
    );
    root.join("validate.mjs")
}

/// Runs both validators on the bundles; (passed, what they printed).
fn validate(bundles: &[(&str, Value)]) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("haven-fhir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, b) in bundles {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(b).unwrap()).unwrap();
        files.push(path);
    }
    let out = Command::new("node")
        .arg(validator())
        .args(&files)
        .output()
        .expect("node runs (Node.js 20 or later)");
    let _ = std::fs::remove_dir_all(&dir);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn every_scenario() -> Vec<(&'static str, Value)> {
    SCENARIOS
        .iter()
        .map(|name| (*name, bundle(&scenario(name).unwrap()).unwrap()))
        .collect()
}

#[test]
fn every_kind_of_bundle_passes_both_validators() {
    let bundles = every_scenario();
    assert_eq!(bundles.len(), 7);
    let (ok, report) = validate(&bundles);
    assert!(ok, "{report}");
    assert!(report.contains("7 file(s), 0 error(s)"), "{report}");
    assert!(!report.contains(" error:"), "{report}");
}

#[test]
fn a_broken_bundle_fails_and_the_validators_say_where() {
    let mut b = bundle(&scenario("carer_and_interpreter").unwrap()).unwrap();
    for entry in b["entry"].as_array_mut().unwrap() {
        let r = &mut entry["resource"];
        match r["resourceType"].as_str() {
            // Structure: a required element missing and a code outside its required set.
            Some("Encounter") => {
                r.as_object_mut().unwrap().remove("class");
                r["status"] = "over".into();
            }
            // Invariant ppc-1: neither policy nor policyRule.
            Some("Consent") => {
                r.as_object_mut().unwrap().remove("policyRule");
            }
            _ => {}
        }
    }
    // A reference to nothing in the bundle.
    b["entry"][0]["resource"]["managingOrganization"] =
        serde_json::json!({ "reference": "urn:uuid:00000000-0000-5000-8000-000000000000" });
    let (ok, report) = validate(&[("broken", b)]);
    assert!(!ok, "{report}");
    for expected in [
        "fhir.js error",
        "Encounter.status",
        "ppc-1",
        "uk-enc-class",
        "does not resolve",
    ] {
        assert!(
            report.contains(expected),
            "{expected} missing from:\n{report}"
        );
    }
}
