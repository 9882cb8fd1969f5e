//! The governance report's rules: each point of the information governance guidance for
//! video consultations that Haven can enforce or support, and whether, for one
//! organisation and one month, it is enforced, supported or off, with the evidence.
//!
//! The rules see only the organisation's policy and counts the store computed, so the
//! same facts always give the same report.

use std::fmt;

use crate::OrgPolicy;

/// Where a point comes from: a guidance document and its section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Citation {
    /// The document's title.
    pub document: &'static str,
    /// The section of the document.
    pub section: &'static str,
}

const NHSE: &str =
    "Using video conferencing and consultation tools guidance for health and care professionals";
const IG_GUIDE: &str = "Using Video Conferencing for Patient/Service User Consultations";
const DPO_FAQ: &str =
    "Can We Use Video Conferencing For Staff Communications or For Consultations with Patients?";

/// A point of the guidance that Haven can enforce or support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Point {
    /// Verify the patient's identity; hold people in a waiting area until verified.
    IdentityVerification,
    /// Consult in a private space where others cannot overhear.
    PrivateSpace,
    /// Consent is implied by accepting the invitation and entering the consultation.
    ImpliedConsent,
    /// Record only with the patient's explicit consent.
    RecordingConsent,
    /// Outcomes and notes go in the patient's record.
    NotesInRecord,
    /// Be clear when the consultation has concluded and the connection has finished.
    ClearEnd,
    /// Chat may be seen by everyone in the call, including those who left.
    ChatVisibility,
    /// Do not share files containing personal data.
    FileSharing,
    /// Set a strong password for the account.
    StrongPasswords,
    /// Use the security features available (two-step sign-in).
    Mfa,
    /// Install updates as they become available.
    Updates,
}

impl Point {
    /// Every point, in the order of the report.
    pub const ALL: [Point; 11] = [
        Point::IdentityVerification,
        Point::PrivateSpace,
        Point::ImpliedConsent,
        Point::RecordingConsent,
        Point::NotesInRecord,
        Point::ClearEnd,
        Point::ChatVisibility,
        Point::FileSharing,
        Point::StrongPasswords,
        Point::Mfa,
        Point::Updates,
    ];

    /// The stable word, for JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Point::IdentityVerification => "identity_verification",
            Point::PrivateSpace => "private_space",
            Point::ImpliedConsent => "implied_consent",
            Point::RecordingConsent => "recording_consent",
            Point::NotesInRecord => "notes_in_record",
            Point::ClearEnd => "clear_end",
            Point::ChatVisibility => "chat_visibility",
            Point::FileSharing => "file_sharing",
            Point::StrongPasswords => "strong_passwords",
            Point::Mfa => "mfa",
            Point::Updates => "updates",
        }
    }

    /// The point as the report names it.
    pub fn title(self) -> &'static str {
        match self {
            Point::IdentityVerification => "Verify the patient's identity",
            Point::PrivateSpace => "Consult in a private space",
            Point::ImpliedConsent => "Implied consent by joining",
            Point::RecordingConsent => "Record only with explicit consent",
            Point::NotesInRecord => "Outcomes and notes in the record",
            Point::ClearEnd => "Be clear when the consultation has ended",
            Point::ChatVisibility => "Chat is seen by everyone in the call",
            Point::FileSharing => "No sharing of files with personal data",
            Point::StrongPasswords => "Strong passwords",
            Point::Mfa => "Two-step sign-in",
            Point::Updates => "Install updates",
        }
    }

    /// Where the guidance says it.
    pub fn citation(self) -> Citation {
        let cite = |document, section| Citation { document, section };
        match self {
            Point::IdentityVerification => cite(NHSE, "Protecting confidentiality"),
            Point::PrivateSpace => cite(IG_GUIDE, "Security considerations"),
            Point::ImpliedConsent => cite(NHSE, "Protecting confidentiality"),
            Point::RecordingConsent => cite(NHSE, "Notes and recordings"),
            Point::NotesInRecord => cite(IG_GUIDE, "Records management considerations"),
            Point::ClearEnd => cite(NHSE, "Protecting confidentiality"),
            Point::ChatVisibility => cite(
                NHSE,
                "Using video conferencing or consulting tools securely",
            ),
            Point::FileSharing => cite(IG_GUIDE, "Security considerations"),
            Point::StrongPasswords => cite(IG_GUIDE, "Security considerations"),
            Point::Mfa => cite(DPO_FAQ, "What If I Am Using My Own Phone or Computer?"),
            Point::Updates => cite(
                NHSE,
                "Using video conferencing or consulting tools securely",
            ),
        }
    }
}

/// How far Haven makes a point happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Haven makes it happen; staff cannot skip it.
    Enforced,
    /// Haven provides the means and records it; people must use them.
    Supported,
    /// The organisation's configuration has it off, or the data shows it is not happening.
    Off,
}

impl Status {
    /// The stable word, for JSON and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Enforced => "enforced",
            Status::Supported => "supported",
            Status::Off => "off",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the record holds for consultations held in the month; kept apart so that further
/// evidence (delivery of the record to the health and care record) adds one field here and
/// one sentence in [`record_evidence`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFacts {
    /// Consultations held that have ended.
    pub ended: u64,
    /// Of those, how many have an outcome recorded.
    pub outcome_recorded: u64,
    /// Of those, how many have a note written.
    pub note_written: u64,
    /// Of those, how many have their notes finished (sent to the record).
    pub notes_finished: u64,
    /// Of those, how many had a record bundle delivered to the record system.
    pub delivered: u64,
    /// Of those, how many had a record bundle delivery fail (to be seen to by hand).
    pub delivery_failed: u64,
}

/// The counts for one organisation and month (patient consultations only; colleague
/// meetings are not consultations), and the current state of its staff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Consultations held: a clinician admitted someone, first in this month.
    pub held: u64,
    /// Of those held, how many were admitted with the checklist's identity item confirmed.
    pub identity_confirmed: u64,
    /// Of those held, how many were admitted with the private space item confirmed.
    pub private_space_confirmed: u64,
    /// Of those held, how many patients accepted the invitation by confirming their details
    /// on the join page.
    pub patient_joined: u64,
    /// Agreements to a carer's presence recorded in consultations held.
    pub carer_consents: u64,
    /// Explicit consents to recording recorded in consultations held.
    pub recording_consents: u64,
    /// What the record holds.
    pub record: RecordFacts,
    /// Consultations held whose chat was saved to the record.
    pub chat_saved: u64,
    /// Staff accounts that are not disabled.
    pub active_staff: u64,
    /// Of those, how many have set a password of their own under the password policy.
    pub own_password: u64,
    /// Of those, how many have enrolled an authenticator app.
    pub mfa_enrolled: u64,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The point of the guidance.
    pub point: Point,
    /// Enforced, supported or off.
    pub status: Status,
    /// Sentences saying why, from the configuration and the counts.
    pub evidence: Vec<String>,
}

/// The report's context that is not a count.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The organisation's policy now.
    pub policy: &'a OrgPolicy,
    /// The month counted, as read ("November 2026").
    pub month: &'a str,
    /// The running Haven's version.
    pub version: &'a str,
}

/// "1 consultation", "3 consultations".
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Every line of the report, in [`Point::ALL`] order.
pub fn report(ctx: Context<'_>, facts: &Facts) -> Vec<Line> {
    Point::ALL
        .into_iter()
        .map(|p| line(p, ctx, facts))
        .collect()
}

/// The line for one point.
pub fn line(point: Point, ctx: Context<'_>, f: &Facts) -> Line {
    let (status, evidence) = match point {
        Point::IdentityVerification => identity(ctx, f),
        Point::PrivateSpace => private_space(ctx, f),
        Point::ImpliedConsent => implied_consent(ctx, f),
        Point::RecordingConsent => recording(ctx, f),
        Point::NotesInRecord => (Status::Supported, record_evidence(ctx.month, &f.record)),
        Point::ClearEnd => clear_end(ctx, f),
        Point::ChatVisibility => chat(ctx, f),
        Point::FileSharing => files(ctx),
        Point::StrongPasswords => passwords(f),
        Point::Mfa => mfa(ctx, f),
        Point::Updates => updates(ctx),
    };
    Line {
        point,
        status,
        evidence,
    }
}

/// Enforced while every consultation held went through the checklist; a shortfall means
/// some admissions bypassed it, which the report must not hide.
fn all_or_supported(done: u64, of: u64) -> Status {
    if done >= of {
        Status::Enforced
    } else {
        Status::Supported
    }
}

fn identity(ctx: Context<'_>, f: &Facts) -> (Status, Vec<String>) {
    let how = match ctx.policy.identity_check {
        crate::IdentityCheck::NameAndDateOfBirth => {
            "Patients confirm their name and date of birth before they can join"
        }
        crate::IdentityCheck::NameDateOfBirthAndSmsCode => {
            "Patients confirm their name and date of birth and enter a code sent to their booked mobile before they can join"
        }
    };
    let evidence = vec![
        format!(
            "{how}; everyone waits apart until a clinician admits them after confirming who they are."
        ),
        format!(
            "Identity checklist confirmed in {} of {} held in {}.",
            f.identity_confirmed,
            plural(f.held, "consultation", "consultations"),
            ctx.month
        ),
    ];
    (all_or_supported(f.identity_confirmed, f.held), evidence)
}

fn private_space(ctx: Context<'_>, f: &Facts) -> (Status, Vec<String>) {
    let evidence = vec![
        "Patients are asked to find a private place before joining; the clinician confirms it before admitting them. Haven cannot see the room.".to_owned(),
        format!(
            "Private space confirmed in {} of {} held in {}.",
            f.private_space_confirmed,
            plural(f.held, "consultation", "consultations"),
            ctx.month
        ),
    ];
    (Status::Supported, evidence)
}

fn implied_consent(ctx: Context<'_>, f: &Facts) -> (Status, Vec<String>) {
    let evidence = vec![
        "Nobody enters a consultation without accepting their invitation on the join page, which explains what happens; joining is recorded.".to_owned(),
        format!(
            "The patient accepted the invitation in {} of {} held in {}.",
            f.patient_joined,
            plural(f.held, "consultation", "consultations"),
            ctx.month
        ),
        format!(
            "{} to a carer's presence recorded.",
            plural(f.carer_consents, "agreement", "agreements")
        ),
    ];
    (all_or_supported(f.patient_joined, f.held), evidence)
}

fn recording(ctx: Context<'_>, f: &Facts) -> (Status, Vec<String>) {
    if ctx.policy.recording_allowed {
        (
            Status::Supported,
            vec![
                "Recording is allowed by the organisation's policy; each recording needs the explicit consent of everyone in the call, noted in the record.".to_owned(),
                format!(
                    "{} to recording recorded in {}.",
                    plural(f.recording_consents, "explicit consent", "explicit consents"),
                    ctx.month
                ),
            ],
        )
    } else {
        (
            Status::Enforced,
            vec![
                "Recording is off by the organisation's policy: Haven records no consultation."
                    .to_owned(),
            ],
        )
    }
}

/// What the record holds, as sentences; one place to add evidence of the record's delivery.
pub fn record_evidence(month: &str, r: &RecordFacts) -> Vec<String> {
    vec![
        "Clinicians record the outcome and notes on the consultation's page; they belong in the patient's health and care record.".to_owned(),
        format!(
            "Outcome recorded for {} of {} held in {} that have ended; notes written for {}.",
            r.outcome_recorded,
            plural(r.ended, "consultation", "consultations"),
            month,
            r.note_written
        ),
        format!(
            "Notes finished for {}; a record bundle was delivered to the record system for {}{}.",
            r.notes_finished,
            r.delivered,
            match r.delivery_failed {
                0 => String::new(),
                n => format!(", and delivery failed for {n} (each consultation's page says why)"),
            }
        ),
    ]
}

fn clear_end(ctx: Context<'_>, f: &Facts) -> (Status, Vec<String>) {
    let open = f.held.saturating_sub(f.record.ended);
    (
        Status::Enforced,
        vec![
            format!(
                "Ending a consultation disconnects everyone and every link stops working; a consultation ends by itself after {} minutes, with a warning to everyone first.",
                ctx.policy.consultation_limit.get()
            ),
            format!(
                "{} of {} held in {} ended; {} still in progress.",
                f.record.ended,
                plural(f.held, "consultation", "consultations"),
                ctx.month,
                open
            ),
        ],
    )
}

fn chat(ctx: Context<'_>, f: &Facts) -> (Status, Vec<String>) {
    let notice = "A permanent notice above the chat says that everyone in the call sees messages, including people who later leave; links are shown as plain text with a warning about phishing.".to_owned();
    if ctx.policy.chat_retained {
        (
            Status::Supported,
            vec![
                notice,
                "Chat is discarded at the end unless the clinician saves it to the record, which the organisation's policy allows.".to_owned(),
                format!(
                    "Chat saved in {} held in {}.",
                    plural(f.chat_saved, "consultation", "consultations"),
                    ctx.month
                ),
            ],
        )
    } else {
        (
            Status::Enforced,
            vec![
                notice,
                "The organisation's policy forbids keeping chat: it is always discarded when the consultation ends.".to_owned(),
            ],
        )
    }
}

fn files(ctx: Context<'_>) -> (Status, Vec<String>) {
    if ctx.policy.file_sharing_allowed {
        (
            Status::Supported,
            vec!["File sharing is allowed by the organisation's policy, limited to the allowed file types and sizes; staff must not share files containing personal data.".to_owned()],
        )
    } else {
        (
            Status::Enforced,
            vec![
                "File sharing is off by the organisation's policy: calls have no file control."
                    .to_owned(),
            ],
        )
    }
}

fn passwords(f: &Facts) -> (Status, Vec<String>) {
    (
        Status::Enforced,
        vec![
            "Every password must be 12 to 128 characters, hard to guess and free of the user's name and email; the rule cannot be switched off.".to_owned(),
            format!(
                "{} of {} have set a password of their own; the others must set one at their next sign-in.",
                f.own_password,
                plural(f.active_staff, "active member of staff", "active staff")
            ),
        ],
    )
}

fn mfa(ctx: Context<'_>, f: &Facts) -> (Status, Vec<String>) {
    let enrolled = format!(
        "{} of {} enrolled an authenticator app.",
        f.mfa_enrolled,
        plural(f.active_staff, "active member of staff", "active staff")
    );
    if ctx.policy.mfa_required {
        (
            Status::Enforced,
            vec![
                "Two-step sign-in is required by the organisation's policy: staff not yet enrolled must enrol at their next sign-in before they can use Haven.".to_owned(),
                enrolled,
            ],
        )
    } else if f.mfa_enrolled > 0 {
        (
            Status::Supported,
            vec![
                "Two-step sign-in is not required by the organisation's policy; staff may enrol."
                    .to_owned(),
                enrolled,
            ],
        )
    } else {
        (
            Status::Off,
            vec![
                "Two-step sign-in is not required by the organisation's policy.".to_owned(),
                enrolled,
            ],
        )
    }
}

fn updates(ctx: Context<'_>) -> (Status, Vec<String>) {
    (
        Status::Supported,
        vec![
            format!("Haven {} is running.", ctx.version),
            "Install each new release as it comes out: replace the haven binary and restart it; the database is brought up to date at start-up.".to_owned(),
        ],
    )
}

#[cfg(test)]
mod tests;
