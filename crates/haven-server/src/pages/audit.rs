//! The audit viewer for IG auditors: filter by date, actor and action; download as CSV.
//! Auditors see their own organisation's entries only.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use haven_domain::Role;
use haven_domain::time::{Date, Duration, OffsetDateTime, Time};
use haven_store::audit::AuditFilter;
use maud::{Markup, html};
use serde::Deserialize;

use crate::ops::audit_log::{CSV_HEADER, csv_row};
use crate::pages::{error_summary, layout, when};
use crate::web::{SignedIn, Staff};
use crate::{AppState, Error, FieldErrors};

/// Entries per page in the viewer.
const PAGE: i64 = 50;
/// The most entries one CSV download holds.
const CSV_MAX: i64 = 100_000;

/// The audit routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(view))
        .route("/audit.csv", get(download))
}

/// The viewer's filters, as typed (query string).
#[derive(Deserialize, Default, Clone)]
struct Filters {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    page: Option<i64>,
}

fn parse_date(s: &str) -> Option<Date> {
    let format = haven_domain::time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &format).ok()
}

impl Filters {
    fn to_filter(&self, who: &SignedIn, errors: &mut FieldErrors) -> AuditFilter {
        let mut filter = AuditFilter {
            org_id: Some(who.org.id.clone()),
            ..AuditFilter::default()
        };
        if !self.from.trim().is_empty() {
            match parse_date(&self.from) {
                Some(d) => filter.from = Some(OffsetDateTime::new_utc(d, Time::MIDNIGHT)),
                None => errors.add("from", "Enter the start date as YYYY-MM-DD"),
            }
        }
        if !self.to.trim().is_empty() {
            match parse_date(&self.to) {
                // "To 3 March" includes all of 3 March.
                Some(d) => {
                    filter.until =
                        Some(OffsetDateTime::new_utc(d, Time::MIDNIGHT) + Duration::days(1))
                }
                None => errors.add("to", "Enter the end date as YYYY-MM-DD"),
            }
        }
        if !self.actor.is_empty() {
            filter.actor_id = Some(self.actor.clone());
        }
        let action = self.action.trim();
        if !action.is_empty() {
            filter.action_prefix = Some(action.chars().take(64).collect());
        }
        filter
    }

    fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("from", &self.from)
            .append_pair("to", &self.to)
            .append_pair("actor", &self.actor)
            .append_pair("action", &self.action)
            .finish()
    }
}

fn require_auditor(who: &SignedIn) -> Result<(), Error> {
    who.require(Role::IgAuditor)
}

async fn view(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(f): Query<Filters>,
) -> Result<Markup, Error> {
    require_auditor(&who)?;
    let mut errors = FieldErrors::default();
    let filter = f.to_filter(&who, &mut errors);
    let page = f.page.unwrap_or(0).clamp(0, 1_000_000);
    let entries = if errors.is_empty() {
        state
            .store
            .audit_entries(&filter, PAGE + 1, page * PAGE)
            .await?
    } else {
        Vec::new()
    };
    let more = entries.len() as i64 > PAGE;
    let users = state.store.users(&who.org.id).await?;
    let names: HashMap<&str, &str> = users
        .iter()
        .map(|u| (u.id.as_str(), u.name.as_str()))
        .collect();
    let clinic_list = state.store.clinics(&who.org.id).await?;
    let clinics: HashMap<&str, &str> = clinic_list
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str()))
        .collect();
    let query = f.query();
    Ok(layout(
        "Audit log",
        Some(&who),
        html! {
            h1 { "Audit log" }
            p { "Every sign-in, account, role, membership and policy change in " (who.org.name.as_str()) ", newest first. Entries are chained by hash; " code { "haven audit verify" } " proves none has been changed or removed." }
            (error_summary(&errors))
            form method="get" action="/audit" class="filters" {
                div class={ "field" @if errors.get("from").is_some() { " field-error" } } {
                    label for="from" { "From" }
                    @if let Some(e) = errors.get("from") { p class="error-message" id="from-error" { (e) } }
                    input type="date" id="from" name="from" value=(f.from) aria-describedby=[errors.get("from").map(|_| "from-error")];
                }
                div class={ "field" @if errors.get("to").is_some() { " field-error" } } {
                    label for="to" { "To" }
                    @if let Some(e) = errors.get("to") { p class="error-message" id="to-error" { (e) } }
                    input type="date" id="to" name="to" value=(f.to) aria-describedby=[errors.get("to").map(|_| "to-error")];
                }
                div class="field" {
                    label for="actor" { "Who" }
                    select id="actor" name="actor" {
                        option value="" { "Anyone" }
                        @for u in &users { option value=(u.id) selected[f.actor == u.id.as_str()] { (u.name.as_str()) } }
                    }
                }
                div class="field" {
                    label for="action" { "Action starts with" }
                    input type="text" id="action" name="action" value=(f.action) placeholder="e.g. staff.sign_in";
                }
                div class="field" { button type="submit" { "Filter" } }
            }
            p { a href={ "/audit.csv?" (query) } download="haven-audit.csv" { "Download these entries as CSV" } }
            // Focusable, so keyboard users can scroll the wide table sideways.
            div class="table-wrap" role="region" aria-label="Audit entries" tabindex="0" {
                table {
                    thead { tr { th scope="col" { "#" } th scope="col" { "Time" } th scope="col" { "Who" } th scope="col" { "Action" } th scope="col" { "Object" } th scope="col" { "Detail" } th scope="col" { "Address" } } }
                    tbody {
                        @for e in entries.iter().take(PAGE as usize) {
                            tr {
                                td { (e.seq) }
                                td class="nowrap" { (when(e.at)) }
                                td { (e.actor.id().and_then(|id| names.get(id).copied()).unwrap_or(e.actor.kind())) }
                                td { span class="tag" { (e.action) } }
                                td { (readable(&e.object, &names, &clinics)) }
                                td { (readable(&e.detail, &names, &clinics)) }
                                td { (e.client_addr.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            @if entries.is_empty() && errors.is_empty() { p { "No entries match." } }
            nav class="actions" aria-label="Pages" {
                @if page > 0 { a href={ "/audit?" (query) "&page=" (page - 1) } { "Newer entries" } }
                @if more { a href={ "/audit?" (query) "&page=" (page + 1) } { "Older entries" } }
            }
        },
    ))
}

/// Shows `user:<id>` and `clinic:<id>` references by name where this organisation has
/// them; the CSV keeps the ids, which are what stays true if a name changes.
fn readable(text: &str, users: &HashMap<&str, &str>, clinics: &HashMap<&str, &str>) -> String {
    text.split(' ')
        .map(|word| {
            let name = match word.split_once(':') {
                Some(("user", id)) => users.get(id),
                Some(("clinic", id)) => clinics.get(id),
                _ => None,
            };
            name.map_or_else(|| word.to_string(), |n| n.to_string())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn download(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(f): Query<Filters>,
) -> Result<Response, Error> {
    require_auditor(&who)?;
    let mut errors = FieldErrors::default();
    let filter = f.to_filter(&who, &mut errors);
    errors.into_result()?;
    let entries = state.store.audit_entries(&filter, CSV_MAX, 0).await?;
    let mut body = String::from(CSV_HEADER);
    body.push('\n');
    for e in entries.iter().rev() {
        body.push_str(&csv_row(e));
        body.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"haven-audit.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}
