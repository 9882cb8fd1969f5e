//! The governance report for administrators and IG auditors (`/admin/governance`): each
//! point of the guidance, enforced, supported or off for this organisation, with the
//! evidence for a UK month (default the current one), and the national counts of video
//! consultations held as a CSV download (`/admin/governance/counts.csv`). Counts only.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use haven_domain::UkMonth;
use haven_domain::governance::{Line, Status};
use maud::{Markup, html};
use serde::Deserialize;

use super::journey::require_admin_or_auditor;
use crate::ops::governance::{self, Report};
use crate::pages::{error_summary, layout};
use crate::web::{SignedIn, Staff};
use crate::{AppState, Error, FieldErrors};

/// The report's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/governance", get(view))
        .route("/admin/governance/counts.csv", get(counts))
}

/// The months asked for, as typed (`YYYY-MM`; empty means the default).
#[derive(Deserialize, Default)]
struct MonthQuery {
    #[serde(default)]
    month: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

const MONTH_HINT: &str = "Enter the month as YYYY-MM, for example 2026-11";

/// The month typed in `field`, or `default` when nothing was typed.
fn month_of(
    typed: &str,
    default: UkMonth,
    field: &'static str,
    errors: &mut FieldErrors,
) -> UkMonth {
    if typed.trim().is_empty() {
        return default;
    }
    UkMonth::parse(typed).unwrap_or_else(|_| {
        errors.add(field, MONTH_HINT);
        default
    })
}

/// The default range of counts: the twelve months up to this one.
fn year_to(now: UkMonth) -> UkMonth {
    now.back(11)
}

fn status_label(status: Status) -> &'static str {
    match status {
        Status::Enforced => "Enforced",
        Status::Supported => "Supported",
        Status::Off => "Off",
    }
}

fn point(line: &Line) -> Markup {
    let cite = line.point.citation();
    html! {
        section class="governance-point" aria-labelledby={ "point-" (line.point.as_str()) } {
            h2 id={ "point-" (line.point.as_str()) } { (line.point.title()) }
            p { span class={ "tag status-" (line.status.as_str()) } { (status_label(line.status)) } }
            @for sentence in &line.evidence { p { (sentence) } }
            p class="hint" { "Guidance: " cite { (cite.document) } ", section “" (cite.section) "”." }
        }
    }
}

fn month_field(name: &str, label: &str, value: &str, errors: &FieldErrors) -> Markup {
    let error = errors.get(name);
    html! {
        div class={ "field" @if error.is_some() { " field-error" } } {
            label for=(name) { (label) }
            @if let Some(e) = error { p class="error-message" id={ (name) "-error" } { span class="visually-hidden" { "Error: " } (e) } }
            input type="month" id=(name) name=(name) value=(value) placeholder="YYYY-MM"
                aria-describedby=[error.map(|_| format!("{name}-error"))];
        }
    }
}

fn page(
    who: &SignedIn,
    report: &Report,
    range: (UkMonth, UkMonth),
    errors: &FieldErrors,
) -> Markup {
    layout(
        "Governance report",
        Some(who),
        html! {
            h1 { "Governance report" }
            p { "Each point of the information governance guidance on video consultations that Haven can enforce or support, for " (report.org_name.as_str()) ", from the current policy and the counts for " (report.month.label()) ". Counts only: nobody is named." }
            p { strong { "Enforced" } ": Haven makes it happen and staff cannot skip it. " strong { "Supported" } ": Haven provides the means and records their use. " strong { "Off" } ": the policy has it switched off." }
            (error_summary(errors))
            form method="get" action="/admin/governance" class="filters" {
                (month_field("month", "Month (UK time)", &report.month.to_string(), errors))
                button type="submit" { "Show" }
            }
            @for line in &report.lines { (point(line)) }
            section class="governance-counts" aria-labelledby="counts-heading" {
                h2 id="counts-heading" { "Counts for national data collections" }
                p { "Video consultations held, by month, as a CSV file: consultations (not colleague meetings) in which a clinician admitted at least one invited person, counted in the month of the first admission. No patient identifiers and no free text; counts are exact, not suppressed." }
                form method="get" action="/admin/governance/counts.csv" class="filters" {
                    (month_field("from", "From month", &range.0.to_string(), errors))
                    (month_field("to", "To month", &range.1.to_string(), errors))
                    button type="submit" { "Download CSV" }
                }
            }
        },
    )
}

async fn view(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(query): Query<MonthQuery>,
) -> Result<Response, Error> {
    require_admin_or_auditor(&who)?;
    let now = UkMonth::containing(state.clock.now());
    let mut errors = FieldErrors::default();
    let month = month_of(&query.month, now, "month", &mut errors);
    let report = governance::report(&state.store, &who.org.id, month).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, page(&who, &report, (year_to(now), now), &errors)).into_response())
}

async fn counts(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(query): Query<MonthQuery>,
) -> Result<Response, Error> {
    require_admin_or_auditor(&who)?;
    let now = UkMonth::containing(state.clock.now());
    let mut errors = FieldErrors::default();
    let from = month_of(&query.from, year_to(now), "from", &mut errors);
    let to = month_of(&query.to, now, "to", &mut errors);
    if !errors.is_empty() {
        return Err(Error::BadRequest(MONTH_HINT.to_owned()));
    }
    let csv = governance::counts_csv(&state.store, Some(&who.org.id), from, to).await?;
    let filename = format!("attachment; filename=\"video-consultations-{from}-to-{to}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        csv,
    )
        .into_response())
}
