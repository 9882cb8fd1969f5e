//! The organisation's policy settings: security and privacy switches, how long invitation
//! links work, the identity check for patients, how long a consultation may run, and how
//! long each kind of data is kept. Admins only; each change is audited with the fields it
//! changed.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use haven_domain::retention::DataKind;
use haven_domain::{
    ConsultationLimit, IdentityCheck, InviteLifetime, OrgPolicy, RetentionPolicy, Role,
};
use maud::{Markup, html};

use super::admin::admin_ctx;
use crate::ops::{orgs, retention};
use crate::pages::{Input, csrf_field, error_summary, field, layout};
use crate::web::{FormData, SignedIn, Staff};
use crate::{AppState, Error, FieldErrors};

/// The policy routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/policy", get(show_policy).post(set_policy))
}

/// What the form shows in its text boxes: as typed after an error, else as stored.
struct Typed<'a> {
    hours: &'a str,
    limit: &'a str,
    /// Each retention period's box, in [`DataKind::ALL`] order.
    retention: [String; 4],
}

impl Typed<'_> {
    fn stored(policy: &OrgPolicy, retention: &RetentionPolicy) -> (String, String, [String; 4]) {
        (
            hours_text(policy),
            policy.consultation_limit.get().to_string(),
            DataKind::ALL.map(|k| retention.days(k).to_string()),
        )
    }
}

fn retention_fields(typed: &[String; 4], errors: &FieldErrors) -> Markup {
    html! {
        fieldset class="field" {
            legend { "How long data is kept" }
            p class="hint" { "A daily job removes what is older. Consultation data (names, contact details, what people confirmed, notes and saved chat) goes once the consultation has been over this long; the consultation itself stays as a count. Audit entries go oldest first, and the audit log still verifies." }
            @for (kind, value) in DataKind::ALL.iter().zip(typed) {
                @let b = kind.bounds();
                (field(kind.as_str(), &format!("{} (days)", kind.label()), value, Input { kind: "number", autocomplete: "off", hint: Some(&format!("From {} to {} days; {} by default.", b.min, b.max, b.default)) }, errors))
            }
        }
    }
}

fn policy_page(
    who: &SignedIn,
    policy: &OrgPolicy,
    typed: &Typed<'_>,
    notice: Option<&str>,
    errors: &FieldErrors,
) -> Markup {
    let (hours, limit) = (typed.hours, typed.limit);
    let check = |name: &str, label: &str, hint: &str, on: bool| {
        html! {
            div class="checkbox" {
                input type="checkbox" id=(name) name=(name) value="on" checked[on] aria-describedby={ (name) "-hint" };
                label for=(name) { (label) }
            }
            p class="hint" id={ (name) "-hint" } { (hint) }
        }
    };
    let day = matches!(policy.invite_lifetime, InviteLifetime::AppointmentDay);
    layout(
        "Organisation policy",
        Some(who),
        html! {
            h1 { "Organisation policy" }
            @if let Some(n) = notice { p class="notice" role="status" { (n) } }
            (error_summary(errors))
            form method="post" action="/admin/policy" novalidate {
                (csrf_field(&who.csrf))
                fieldset class="field" {
                    legend { "Security and privacy" }
                    (check("mfa_required", "Require two-step sign-in for all staff", "Strongly recommended. Staff enrol an authenticator app at their next sign-in.", policy.mfa_required))
                    (check("recording_allowed", "Allow recording of consultations", "Even when allowed, a recording needs the explicit consent of everyone in the call.", policy.recording_allowed))
                    (check("file_sharing_allowed", "Allow file sharing in calls", "PDF, PNG and JPEG files of up to 5 MB, shared in the call's chat and discarded when it ends. When off, the file control does not exist in calls.", policy.file_sharing_allowed))
                    (check("chat_retained", "Allow chat to be kept after a consultation", "When on, a clinician may save a call's chat to the consultation record; it is discarded unless they do. When off, chat is always discarded when the consultation ends.", policy.chat_retained))
                }
                fieldset class="field" id="invite_lifetime" {
                    legend { "How long invitation links work" }
                    div class="checkbox" {
                        input type="radio" id="lifetime-day" name="invite_lifetime" value="appointment_day" checked[day];
                        label for="lifetime-day" { "Until the end of the appointment day" }
                    }
                    div class="checkbox" {
                        input type="radio" id="lifetime-hours" name="invite_lifetime" value="hours" checked[!day];
                        label for="lifetime-hours" { "A number of hours after sending" }
                    }
                }
                (field("hours", "Hours (when a number of hours is chosen)", hours, Input { kind: "number", autocomplete: "off", hint: Some("From 1 to 168 (one week).") }, errors))
                fieldset class="field" id="identity_check" {
                    legend { "Identity check for patients" }
                    @for level in [IdentityCheck::NameAndDateOfBirth, IdentityCheck::NameDateOfBirthAndSmsCode] {
                        div class="checkbox" {
                            input type="radio" id={ "id-" (level.as_str()) } name="identity_check" value=(level.as_str()) checked[policy.identity_check == level];
                            label for={ "id-" (level.as_str()) } { (level.label()) }
                        }
                    }
                }
                (field("consultation_limit", "End consultations after (minutes)", limit, Input { kind: "number", autocomplete: "off", hint: Some("From 15 to 240. Everyone in the call is warned 5 minutes before it ends by itself; the clock starts when the first person is admitted.") }, errors))
                (retention_fields(&typed.retention, errors))
                button type="submit" { "Save policy" }
            }
        },
    )
}

fn hours_text(policy: &OrgPolicy) -> String {
    match policy.invite_lifetime {
        InviteLifetime::Hours(h) => h.to_string(),
        InviteLifetime::AppointmentDay => String::new(),
    }
}

async fn show_policy(State(state): State<AppState>, Staff(who): Staff) -> Result<Markup, Error> {
    who.require(Role::Admin)?;
    let policy = state.store.org(&who.org.id).await?.policy;
    let retention = state.store.retention_policy(&who.org.id).await?;
    let (hours, limit, periods) = Typed::stored(&policy, &retention);
    let typed = Typed {
        hours: &hours,
        limit: &limit,
        retention: periods,
    };
    Ok(policy_page(
        &who,
        &policy,
        &typed,
        None,
        &FieldErrors::default(),
    ))
}

/// The periods typed; a period the form does not carry at all (a form from before
/// retention periods existed) stays as it is.
fn retention_from(
    form: &FormData,
    current: &RetentionPolicy,
    errors: &mut FieldErrors,
) -> Option<RetentionPolicy> {
    let [consultation, chat, journey, audit] = DataKind::ALL.map(|kind| {
        if form.all(kind.as_str()).next().is_none() {
            return Some(current.days(kind));
        }
        kind.parse_days(form.get(kind.as_str()))
            .map_err(|e| errors.add(kind.as_str(), e.to_string()))
            .ok()
    });
    RetentionPolicy::new(consultation?, chat?, journey?, audit?).ok()
}

fn policy_from(form: &FormData, errors: &mut FieldErrors) -> Option<OrgPolicy> {
    let invite_lifetime = match form.get("invite_lifetime") {
        "appointment_day" => Some(InviteLifetime::AppointmentDay),
        "hours" => match form
            .get("hours")
            .trim()
            .parse::<u16>()
            .ok()
            .map(InviteLifetime::hours)
        {
            Some(Ok(l)) => Some(l),
            _ => {
                errors.add("hours", "Enter a whole number of hours from 1 to 168");
                None
            }
        },
        _ => {
            errors.add("invite_lifetime", "Choose how long invitation links work");
            None
        }
    };
    let identity_check = IdentityCheck::parse(form.get("identity_check"))
        .map_err(|_| errors.add("identity_check", "Choose an identity check"))
        .ok();
    let consultation_limit = ConsultationLimit::parse(form.get("consultation_limit"))
        .map_err(|_| {
            errors.add(
                "consultation_limit",
                "Enter a whole number of minutes from 15 to 240",
            );
        })
        .ok();
    Some(OrgPolicy {
        mfa_required: form.checked("mfa_required"),
        recording_allowed: form.checked("recording_allowed"),
        file_sharing_allowed: form.checked("file_sharing_allowed"),
        chat_retained: form.checked("chat_retained"),
        invite_lifetime: invite_lifetime?,
        identity_check: identity_check?,
        consultation_limit: consultation_limit?,
    })
}

async fn set_policy(
    State(state): State<AppState>,
    Staff(who): Staff,
    form: FormData,
) -> Result<Response, Error> {
    let ctx = admin_ctx(&state, &who)?;
    let mut errors = FieldErrors::default();
    let policy = policy_from(&form, &mut errors);
    let current_periods = state.store.retention_policy(&who.org.id).await?;
    let periods = retention_from(&form, &current_periods, &mut errors);
    let (Some(policy), Some(periods)) = (policy, periods) else {
        let current = state.store.org(&who.org.id).await?.policy;
        let typed = Typed {
            hours: form.get("hours"),
            limit: form.get("consultation_limit"),
            retention: DataKind::ALL.map(|k| form.get(k.as_str()).to_owned()),
        };
        return Ok((
            StatusCode::BAD_REQUEST,
            policy_page(&who, &current, &typed, None, &errors),
        )
            .into_response());
    };
    orgs::set_policy(&state, &ctx, &who.org.id, &policy).await?;
    retention::set_policy(&state.store, &ctx, &who.org.id, &periods).await?;
    let (hours, limit, stored) = Typed::stored(&policy, &periods);
    let typed = Typed {
        hours: &hours,
        limit: &limit,
        retention: stored,
    };
    Ok(policy_page(
        &who,
        &policy,
        &typed,
        Some("Policy saved."),
        &FieldErrors::default(),
    )
    .into_response())
}
