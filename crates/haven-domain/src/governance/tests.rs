use super::*;
use crate::IdentityCheck;

fn ctx(policy: &OrgPolicy) -> Context<'_> {
    Context {
        policy,
        month: "November 2026",
        version: "1.2.3",
    }
}

/// A month where everything went through the checklist.
fn full() -> Facts {
    Facts {
        held: 412,
        identity_confirmed: 412,
        private_space_confirmed: 412,
        patient_joined: 412,
        carer_consents: 3,
        recording_consents: 0,
        record: RecordFacts {
            ended: 410,
            outcome_recorded: 400,
            note_written: 380,
            notes_finished: 370,
            delivered: 360,
            delivery_failed: 2,
        },
        chat_saved: 5,
        active_staff: 7,
        own_password: 6,
        mfa_enrolled: 7,
    }
}

fn status(point: Point, policy: &OrgPolicy, facts: &Facts) -> Status {
    line(point, ctx(policy), facts).status
}

fn text(point: Point, policy: &OrgPolicy, facts: &Facts) -> String {
    line(point, ctx(policy), facts).evidence.join(" ")
}

#[test]
fn the_report_has_every_point_once_in_order_with_a_citation() {
    let policy = OrgPolicy::default();
    let lines = report(ctx(&policy), &full());
    let points: Vec<Point> = lines.iter().map(|l| l.point).collect();
    assert_eq!(points, Point::ALL);
    for l in &lines {
        let c = l.point.citation();
        assert!(!c.document.is_empty() && !c.section.is_empty());
        assert!(!l.evidence.is_empty(), "{:?}", l.point);
    }
}

#[test]
fn identity_is_enforced_when_every_consultation_held_was_checked() {
    let policy = OrgPolicy::default();
    let f = full();
    assert_eq!(
        status(Point::IdentityVerification, &policy, &f),
        Status::Enforced
    );
    assert!(text(Point::IdentityVerification, &policy, &f).contains(
        "Identity checklist confirmed in 412 of 412 consultations held in November 2026."
    ));
    let none = Facts::default();
    assert_eq!(
        status(Point::IdentityVerification, &policy, &none),
        Status::Enforced
    );
    assert!(text(Point::IdentityVerification, &policy, &none).contains("0 of 0 consultations"));
}

#[test]
fn identity_is_only_supported_when_some_admissions_skipped_the_checklist() {
    let policy = OrgPolicy::default();
    let f = Facts {
        identity_confirmed: 400,
        ..full()
    };
    assert_eq!(
        status(Point::IdentityVerification, &policy, &f),
        Status::Supported
    );
    assert!(text(Point::IdentityVerification, &policy, &f).contains("400 of 412"));
}

#[test]
fn identity_evidence_names_the_text_message_code_when_the_policy_asks_for_it() {
    let policy = OrgPolicy {
        identity_check: IdentityCheck::NameDateOfBirthAndSmsCode,
        ..OrgPolicy::default()
    };
    assert!(
        text(Point::IdentityVerification, &policy, &full())
            .contains("code sent to their booked mobile")
    );
    assert!(!text(Point::IdentityVerification, &OrgPolicy::default(), &full()).contains("code"));
}

#[test]
fn private_space_is_supported_with_the_count_confirmed() {
    let policy = OrgPolicy::default();
    let f = Facts {
        private_space_confirmed: 1,
        held: 1,
        ..Facts::default()
    };
    assert_eq!(status(Point::PrivateSpace, &policy, &f), Status::Supported);
    assert!(text(Point::PrivateSpace, &policy, &f).contains("1 of 1 consultation held"));
}

#[test]
fn implied_consent_is_enforced_unless_a_patient_was_admitted_without_accepting() {
    let policy = OrgPolicy::default();
    assert_eq!(
        status(Point::ImpliedConsent, &policy, &full()),
        Status::Enforced
    );
    assert!(
        text(Point::ImpliedConsent, &policy, &full())
            .contains("3 agreements to a carer's presence")
    );
    let short = Facts {
        patient_joined: 411,
        carer_consents: 1,
        ..full()
    };
    assert_eq!(
        status(Point::ImpliedConsent, &policy, &short),
        Status::Supported
    );
    assert!(
        text(Point::ImpliedConsent, &policy, &short).contains("1 agreement to a carer's presence")
    );
}

#[test]
fn recording_is_enforced_off_or_supported_with_consents_counted() {
    let off = OrgPolicy::default();
    assert_eq!(
        status(Point::RecordingConsent, &off, &full()),
        Status::Enforced
    );
    assert!(text(Point::RecordingConsent, &off, &full()).contains("Haven records no consultation"));
    let on = OrgPolicy {
        recording_allowed: true,
        ..off
    };
    let f = Facts {
        recording_consents: 2,
        ..full()
    };
    assert_eq!(status(Point::RecordingConsent, &on, &f), Status::Supported);
    assert!(text(Point::RecordingConsent, &on, &f).contains("2 explicit consents to recording"));
}

#[test]
fn notes_are_supported_with_outcomes_and_notes_counted() {
    let policy = OrgPolicy::default();
    assert_eq!(
        status(Point::NotesInRecord, &policy, &full()),
        Status::Supported
    );
    assert!(text(Point::NotesInRecord, &policy, &full()).contains(
        "Outcome recorded for 400 of 410 consultations held in November 2026 that have ended; notes written for 380."
    ));
    assert!(text(Point::NotesInRecord, &policy, &full()).contains(
        "Notes finished for 370; a record bundle was delivered to the record system for 360, and delivery failed for 2 (each consultation's page says why)."
    ));
    let mut all_delivered = full();
    all_delivered.record.delivery_failed = 0;
    assert!(
        text(Point::NotesInRecord, &policy, &all_delivered)
            .contains("delivered to the record system for 360.")
    );
}

#[test]
fn the_end_is_enforced_and_names_the_time_limit_and_calls_still_open() {
    let policy = OrgPolicy {
        consultation_limit: crate::ConsultationLimit::minutes(60).unwrap(),
        ..OrgPolicy::default()
    };
    assert_eq!(status(Point::ClearEnd, &policy, &full()), Status::Enforced);
    let t = text(Point::ClearEnd, &policy, &full());
    assert!(t.contains("after 60 minutes"), "{t}");
    assert!(
        t.contains("410 of 412 consultations held in November 2026 ended; 2 still in progress."),
        "{t}"
    );
}

#[test]
fn chat_is_enforced_when_never_kept_and_supported_when_it_may_be_saved() {
    let off = OrgPolicy::default();
    assert_eq!(
        status(Point::ChatVisibility, &off, &full()),
        Status::Enforced
    );
    assert!(text(Point::ChatVisibility, &off, &full()).contains("always discarded"));
    let kept = OrgPolicy {
        chat_retained: true,
        ..off
    };
    assert_eq!(
        status(Point::ChatVisibility, &kept, &full()),
        Status::Supported
    );
    assert!(
        text(Point::ChatVisibility, &kept, &full()).contains("Chat saved in 5 consultations held")
    );
}

#[test]
fn file_sharing_is_enforced_off_or_supported_when_allowed() {
    let off = OrgPolicy::default();
    assert_eq!(status(Point::FileSharing, &off, &full()), Status::Enforced);
    let on = OrgPolicy {
        file_sharing_allowed: true,
        ..off
    };
    assert_eq!(status(Point::FileSharing, &on, &full()), Status::Supported);
    assert!(text(Point::FileSharing, &on, &full()).contains("allowed file types"));
}

#[test]
fn passwords_are_always_enforced_with_staff_counted() {
    let policy = OrgPolicy::default();
    assert_eq!(
        status(Point::StrongPasswords, &policy, &full()),
        Status::Enforced
    );
    assert!(
        text(Point::StrongPasswords, &policy, &full())
            .contains("6 of 7 active staff have set a password")
    );
    let one = Facts {
        active_staff: 1,
        own_password: 1,
        ..Facts::default()
    };
    assert!(text(Point::StrongPasswords, &policy, &one).contains("1 of 1 active member of staff"));
}

#[test]
fn mfa_is_enforced_by_policy_supported_when_some_enrolled_and_off_otherwise() {
    let required = OrgPolicy::default();
    assert_eq!(status(Point::Mfa, &required, &full()), Status::Enforced);
    assert!(text(Point::Mfa, &required, &full()).contains("7 of 7 active staff enrolled"));
    let optional = OrgPolicy {
        mfa_required: false,
        ..required
    };
    assert_eq!(status(Point::Mfa, &optional, &full()), Status::Supported);
    let nobody = Facts {
        mfa_enrolled: 0,
        ..full()
    };
    assert_eq!(status(Point::Mfa, &optional, &nobody), Status::Off);
    assert!(text(Point::Mfa, &optional, &nobody).contains("0 of 7"));
}

#[test]
fn updates_are_supported_and_name_the_running_version() {
    let policy = OrgPolicy::default();
    assert_eq!(status(Point::Updates, &policy, &full()), Status::Supported);
    assert!(text(Point::Updates, &policy, &full()).contains("Haven 1.2.3 is running."));
}
