//! The journey funnel for administrators and IG auditors: for a UK day, each clinic's
//! invited people, how far they got (link, details, check, waiting, admission, media,
//! end), which check problems stopped them, where those without a working call stopped,
//! and the median wait from opening the link to admission. `/admin/journey.json` gives
//! the same figures for reporting. Counts and durations only: no names, no ids.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use haven_domain::consultation::JourneyStep;
use haven_domain::journey::{CheckProblem, Funnel};
use haven_domain::time::{Date, Duration, Time};
use haven_domain::{ClinicName, Role, uk_time};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::pages::{error_summary, layout};
use crate::web::{SignedIn, Staff};
use crate::{AppState, Error, FieldErrors};

/// The funnel's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/journey", get(view))
        .route("/admin/journey.json", get(figures))
}

/// The day asked for, as typed (`YYYY-MM-DD`; empty means today).
#[derive(Deserialize, Default)]
struct DayQuery {
    #[serde(default)]
    date: String,
}

/// Administrators see how their service is used; IG auditors see it as evidence.
pub(super) fn require_admin_or_auditor(who: &SignedIn) -> Result<(), Error> {
    who.require(Role::Admin)
        .or_else(|_| who.require(Role::IgAuditor))
}

/// The UK day asked for, or today in the UK.
fn day_of(query: &DayQuery, state: &AppState) -> Result<Date, String> {
    let typed = query.date.trim();
    if typed.is_empty() {
        return Ok(uk_time::local(state.clock.now()).date());
    }
    let format = haven_domain::time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(typed, &format)
        .map_err(|_| "Enter the date as YYYY-MM-DD, for example 2026-11-24".to_owned())
}

/// Every clinic of the organisation with its figures for `day` (zeros where nothing was
/// booked), by clinic name.
async fn clinic_funnels(
    state: &AppState,
    who: &SignedIn,
    day: Date,
) -> Result<Vec<(ClinicName, Funnel)>, Error> {
    let from = uk_time::from_local(day, Time::MIDNIGHT);
    let until = uk_time::from_local(day.next_day().unwrap_or(day), Time::MIDNIGHT);
    let mut funnels = state.store.funnels(&who.org.id, from, until).await?;
    let clinics = state.store.clinics(&who.org.id).await?;
    Ok(clinics
        .into_iter()
        .map(|c| {
            let at = funnels.iter().position(|(id, _)| *id == c.id);
            let funnel = at.map_or_else(
                || Funnel::count(std::iter::empty()),
                |i| funnels.swap_remove(i).1,
            );
            (c.name, funnel)
        })
        .collect())
}

fn step_label(step: JourneyStep) -> &'static str {
    match step {
        JourneyStep::LinkOpened => "Opened the link",
        JourneyStep::DetailsEntered => "Entered their details",
        JourneyStep::CheckPassed => "Passed the check",
        JourneyStep::CheckFailed => "Had a problem in the check",
        JourneyStep::Waiting => "Waited",
        JourneyStep::Admitted => "Were admitted",
        JourneyStep::MediaFlowing => "Had sound and video both ways",
        JourneyStep::Ended => "Ended",
    }
}

/// "4 minutes 30 seconds".
fn describe_wait(wait: Duration) -> String {
    let (minutes, seconds) = (wait.whole_minutes(), wait.whole_seconds() % 60);
    match (minutes, seconds) {
        (0, s) => format!("{s} seconds"),
        (m, 0) => format!("{m} minute{}", if m == 1 { "" } else { "s" }),
        (m, s) => format!("{m} minute{} {s} seconds", if m == 1 { "" } else { "s" }),
    }
}

async fn view(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(query): Query<DayQuery>,
) -> Result<Response, Error> {
    require_admin_or_auditor(&who)?;
    let mut errors = FieldErrors::default();
    let (day, clinics) = match day_of(&query, &state) {
        Ok(day) => (Some(day), clinic_funnels(&state, &who, day).await?),
        Err(message) => {
            errors.add("date", message);
            (None, Vec::new())
        }
    };
    let shown = day.map_or_else(|| query.date.clone(), |d| d.to_string());
    let page = layout(
        "Journey funnel",
        Some(&who),
        html! {
            h1 { "Journey funnel" }
            p { "How the people invited to each clinic's video appointments on a day got on: how many reached a working call, and where the others stopped. Counts only: nobody is named." }
            (error_summary(&errors))
            form method="get" action="/admin/journey" class="filters" {
                div class={ "field" @if errors.get("date").is_some() { " field-error" } } {
                    label for="date" { "Day (UK time)" }
                    @if let Some(e) = errors.get("date") { p class="error-message" id="date-error" { span class="visually-hidden" { "Error: " } (e) } }
                    input type="date" id="date" name="date" value=(shown) aria-describedby=[errors.get("date").map(|_| "date-error")];
                }
                button type="submit" { "Show" }
            }
            @if day.is_some() {
                p { a href={ "/admin/journey.json?date=" (shown) } { "These figures as JSON" } }
                @if clinics.is_empty() { p { "This organisation has no clinics yet." } }
                @for (name, funnel) in &clinics { (clinic_section(name, funnel)) }
            }
        },
    );
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::BAD_REQUEST
    };
    Ok((status, page).into_response())
}

fn clinic_section(name: &ClinicName, funnel: &Funnel) -> Markup {
    let problems: Vec<&(CheckProblem, u32)> = funnel
        .failed_by_problem
        .iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    let short = funnel.invited - funnel.working_calls();
    html! {
        section class="funnel" aria-label=(name.as_str()) {
            h2 { (name.as_str()) }
            @if funnel.invited == 0 {
                p { "No video appointments on this day." }
            } @else {
                p class="funnel-summary" { strong { (funnel.working_calls()) " of " (funnel.invited) } " invited people reached a working call." }
                p { "Median time from opening the link to being admitted: "
                    @match funnel.median_to_admitted { Some(w) => strong { (describe_wait(w)) }, None => "nobody was admitted." } }
                div class="table-wrap" {
                    table {
                        caption { "How far people got" }
                        thead { tr { th scope="col" { "Step" } th scope="col" { "People" } } }
                        tbody {
                            tr { th scope="row" { "Invited" } td { (funnel.invited) } }
                            @for (step, n) in &funnel.reached { tr { th scope="row" { (step_label(*step)) } td { (n) } } }
                        }
                    }
                }
                @if !problems.is_empty() {
                    div class="table-wrap" {
                        table {
                            caption { "Problems the check found" }
                            thead { tr { th scope="col" { "Problem" } th scope="col" { "People" } } }
                            tbody { @for (problem, n) in &problems { tr { th scope="row" { (problem.describe()) } td { (n) } } } }
                        }
                    }
                }
                @if short > 0 {
                    div class="table-wrap" {
                        table {
                            caption { "Where the " (short) " without a working call stopped" }
                            thead { tr { th scope="col" { "Last step reached" } th scope="col" { "People" } } }
                            tbody { @for (stop, n) in funnel.stopped.iter().filter(|(_, n)| *n > 0) { tr { th scope="row" { (stop.describe()) } td { (n) } } } }
                        }
                    }
                }
            }
        }
    }
}

/// The same figures as JSON, keyed by the stable words of steps, problems and stops.
async fn figures(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(query): Query<DayQuery>,
) -> Result<Response, Error> {
    require_admin_or_auditor(&who)?;
    let day = day_of(&query, &state).map_err(Error::BadRequest)?;
    let clinics = clinic_funnels(&state, &who, day).await?;
    let counts = |pairs: Vec<(&'static str, u32)>| -> Value {
        Value::Object(
            pairs
                .into_iter()
                .map(|(k, n)| (k.to_owned(), json!(n)))
                .collect::<Map<_, _>>(),
        )
    };
    let clinics: Vec<Value> = clinics
        .iter()
        .map(|(name, f)| {
            json!({
                "clinic": name.as_str(),
                "invited": f.invited,
                "reached": counts(f.reached.iter().map(|(s, n)| (s.as_str(), *n)).collect()),
                "check_failed_by_problem":
                    counts(f.failed_by_problem.iter().map(|(p, n)| (p.as_str(), *n)).collect()),
                "working_calls": f.working_calls(),
                "stopped_at": counts(f.stopped.iter().map(|(s, n)| (s.as_str(), *n)).collect()),
                "median_seconds_link_opened_to_admitted":
                    f.median_to_admitted.map(|d| d.whole_seconds()),
            })
        })
        .collect();
    Ok(Json(json!({ "date": day.to_string(), "clinics": clinics })).into_response())
}

#[cfg(test)]
mod tests {
    use super::describe_wait;
    use haven_domain::time::Duration;

    #[test]
    fn waits_read_naturally() {
        assert_eq!(describe_wait(Duration::seconds(45)), "45 seconds");
        assert_eq!(describe_wait(Duration::minutes(1)), "1 minute");
        assert_eq!(
            describe_wait(Duration::seconds(270)),
            "4 minutes 30 seconds"
        );
    }
}
