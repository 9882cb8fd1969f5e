//! A clinic's waiting area, shared by its clinicians and receptionists (and the
//! organisation's administrators): everyone waiting now in any of the clinic's consultations
//! (an early arrival for an appointment after midnight too), how long each has waited,
//! whether their page is connected, their pre-call check, the appointment and its
//! clinician, with links to admit them and a message box. The page is a plain list that a
//! reload refreshes; `web/waiting.js` keeps it live from
//! `…/waiting/events` (server-sent events carrying the rendered rows).

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration as StdDuration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Extension, Router};
use futures_util::Stream;
use haven_domain::time::{Duration, OffsetDateTime, Time};
use haven_domain::{AttendeeId, ClinicId, ConsultationId, Role, UserId, uk_time};
use haven_store::journey::CheckResult;
use haven_store::orgs::Clinic;
use maud::{Markup, html};
use tokio::time::{Instant, MissedTickBehavior};

use crate::pages::consultations::booking_staff;
use crate::pages::{csrf_field, layout};
use crate::signal::WaitingBoard;
use crate::web::{Passive, SignedIn, Staff};
use crate::{AppState, Error};

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clinics/{id}/waiting", get(page))
        .route(
            "/clinics/{id}/waiting/events",
            get(events).layer(Extension(Passive)),
        )
}

/// How often the minutes waited are brought up to date when nothing else changes.
const TICK: StdDuration = StdDuration::from_secs(60);
/// An event stream ends after this; the browser reconnects, and the reconnection checks
/// the session and the clinic membership again.
const STREAM_LIFETIME: StdDuration = StdDuration::from_secs(10 * 60);

/// The clinic, if `who` may see its waiting area: a member with a clinician's or a
/// receptionist's role, or an administrator of its organisation. Anyone else is told it
/// does not exist.
pub async fn visible_clinic(state: &AppState, who: &SignedIn, id: &str) -> Result<Clinic, Error> {
    let id = ClinicId::parse(id).map_err(|_| Error::NotFound)?;
    may_see(state, who, &id).await?;
    Ok(state.store.clinic(&who.org.id, &id).await?)
}

/// Whether `who` may see the waiting area of their organisation's clinic `id`.
pub async fn may_see(state: &AppState, who: &SignedIn, id: &ClinicId) -> Result<(), Error> {
    booking_staff(who).map_err(|_| Error::NotFound)?;
    if who.user.roles.contains(Role::Admin) {
        return Ok(());
    }
    let mine = state.store.user_clinics(&who.org.id, &who.user.id).await?;
    let staff = [Role::Clinician, Role::Receptionist]
        .iter()
        .any(|r| who.user.roles.contains(*r));
    if staff && mine.contains(id) {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// One person waiting, as the list shows them.
struct Waiting {
    attendee: AttendeeId,
    consultation: ConsultationId,
    /// Their name as booked.
    name: String,
    since: OffsetDateTime,
    connected: bool,
    check: Option<CheckResult>,
    starts_at: OffsetDateTime,
    clinician: Option<String>,
}

/// The appointments whose patients can be waiting now: from yesterday to tomorrow, UK time.
/// Only who is on the board (waiting now) is listed; a link lives until the end of its
/// appointment's day, and an out-of-hours clinic's patient may arrive before midnight for
/// an appointment after it.
fn around_today(now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let today = uk_time::from_local(uk_time::local(now).date(), Time::MIDNIGHT);
    (today - Duration::days(1), today + Duration::days(2))
}

/// Everyone waiting in the clinic's consultations now, longest waiting first.
async fn waiting(
    state: &AppState,
    who: &SignedIn,
    clinic: &ClinicId,
    board: &WaitingBoard,
) -> Result<Vec<Waiting>, Error> {
    let org = &who.org.id;
    let (from, to) = around_today(state.clock.now());
    let mut out = Vec::new();
    let mine: Vec<_> = board
        .iter()
        .filter(|(_, (o, _))| o == org)
        .map(|(id, (_, entries))| (id, entries))
        .collect();
    if mine.is_empty() {
        return Ok(out);
    }
    let consultations = state
        .store
        .consultations_between(org, clinic, from, to)
        .await?;
    let checks = state.store.latest_checks(org, clinic, from, to).await?;
    let names: HashMap<UserId, String> = state
        .store
        .users(org)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name.as_str().to_owned()))
        .collect();
    for (id, entries) in mine {
        let Some(c) = consultations.iter().find(|c| c.id == *id) else {
            continue;
        };
        let people = state.store.attendees(org, id).await?;
        for e in entries {
            let Some(person) = people.iter().find(|a| a.id == e.attendee) else {
                continue;
            };
            out.push(Waiting {
                attendee: e.attendee.clone(),
                consultation: c.id.clone(),
                name: person.name.as_str().to_owned(),
                since: e.since,
                connected: e.connected,
                check: checks.get(&e.attendee).cloned(),
                starts_at: c.starts_at,
                clinician: c.clinician_id.as_ref().and_then(|u| names.get(u).cloned()),
            });
        }
    }
    out.sort_by(|a, b| a.since.cmp(&b.since).then(a.attendee.cmp(&b.attendee)));
    Ok(out)
}

fn check_text(check: Option<&CheckResult>) -> String {
    match check {
        None => "not yet".to_owned(),
        Some(c) if c.passed => "passed".to_owned(),
        Some(c) => format!(
            "failed: {}",
            c.problem
                .map_or("a problem the check could not name", |p| p.describe())
        ),
    }
}

fn count_text(n: usize) -> String {
    match n {
        0 => "Nobody is waiting.".to_owned(),
        1 => "1 person is waiting.".to_owned(),
        n => format!("{n} people are waiting."),
    }
}

/// The facts of one row (what the live updates replace; the message form stays as it is).
fn facts(w: &Waiting, now: OffsetDateTime, is_clinician: bool) -> Markup {
    let minutes = (now - w.since).whole_minutes().max(0);
    let t = uk_time::local(w.starts_at);
    html! {
        div class="waiting-facts" {
            p class="waiting-name" { strong { (w.name) } }
            dl class="summary" {
                dt { "Waiting" } dd class="waited" { (minutes) " min" }
                dt { "Their page" } dd class="connection" { @if w.connected { "connected" } @else { "reconnecting" } }
                dt { "Pre-call check" } dd class="check" { (check_text(w.check.as_ref())) }
                dt { "Appointment" } dd { (format!("{:02}:{:02}", t.hour(), t.minute())) " with " (w.clinician.as_deref().unwrap_or("any clinician of the clinic")) }
            }
            p class="actions" {
                @if is_clinician {
                    a class="button" href={ "/consultations/" (w.consultation) "/attendees/" (w.attendee) "/admit" } { "Check identity and admit" }
                    " "
                    a href={ "/consultations/" (w.consultation) "/call" } { "Open the call" }
                    " · "
                }
                a href={ "/consultations/" (w.consultation) } { "Consultation details" }
            }
        }
    }
}

/// The rows of the list.
fn rows(who: &SignedIn, list: &[Waiting], now: OffsetDateTime) -> Markup {
    let is_clinician = who.user.roles.contains(Role::Clinician);
    html! {
        @for w in list {
            li class="waiting-entry" data-key=(w.attendee) {
                (facts(w, now, is_clinician))
                form method="post" action={ "/consultations/" (w.consultation) "/attendees/" (w.attendee) "/notice" } class="inline-form" {
                    (csrf_field(&who.csrf))
                    input type="hidden" name="back" value="clinic";
                    div class="field" {
                        label for={ "notice-" (w.attendee) } { "Message to show " (w.name) }
                        input id={ "notice-" (w.attendee) } name="notice" type="text" autocomplete="off" maxlength="300" placeholder="For example: running 10 minutes late";
                    }
                    button type="submit" class="secondary" { "Send message" }
                }
            }
        }
    }
}

async fn page(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Markup, Error> {
    let clinic = visible_clinic(&state, &who, &id).await?;
    let board = state.live.watch_waiting().borrow().clone();
    let list = waiting(&state, &who, &clinic.id, &board).await?;
    let now = state.clock.now();
    Ok(layout(
        "Waiting room",
        Some(&who),
        html! {
            h1 { "Waiting room: " (clinic.name.as_str()) }
            p class="hint" { "Everyone waiting now in this clinic's consultations. The list keeps itself up to date; without JavaScript, reload the page." }
            p id="waiting-count" role="status" aria-live="polite" { (count_text(list.len())) }
            ul id="clinic-waiting" class="waiting-list" data-events={ "/clinics/" (clinic.id) "/waiting/events" } {
                (rows(&who, &list, now))
            }
            p { a href={ "/consultations?clinic=" (clinic.id) } { "The clinic's consultations today" } }
            script type="module" src="/assets/waiting.js" {}
        },
    ))
}

/// The rendered list as one event: the count line and the rows.
async fn render(
    state: &AppState,
    who: &SignedIn,
    clinic: &ClinicId,
    board: &WaitingBoard,
) -> Result<String, Error> {
    let list = waiting(state, who, clinic, board).await?;
    let rows = rows(who, &list, state.clock.now()).into_string();
    Ok(serde_json::json!({ "count": count_text(list.len()), "rows": rows }).to_string())
}

async fn events(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Error> {
    let clinic = visible_clinic(&state, &who, &id).await?;
    let mut board = state.live.watch_waiting();
    // The first event is the list as it is now.
    board.mark_changed();
    let mut tick = tokio::time::interval_at(Instant::now() + TICK, TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let until = Instant::now() + STREAM_LIFETIME;
    let start = (state, who, clinic.id, board, tick, String::new());
    let stream = futures_util::stream::unfold(
        start,
        move |(state, who, clinic, mut board, mut tick, mut last)| async move {
            loop {
                tokio::select! {
                    changed = board.changed() => if changed.is_err() { return None },
                    _ = tick.tick() => {}
                    () = tokio::time::sleep_until(until) => return None,
                }
                let current = board.borrow_and_update().clone();
                let data = match render(&state, &who, &clinic, &current).await {
                    Ok(data) => data,
                    Err(e) => {
                        // The browser reconnects and tries again.
                        tracing::error!(error = %e, "rendering the waiting list failed");
                        return None;
                    }
                };
                if data != last {
                    last.clone_from(&data);
                    // Compact JSON has no raw line break, which `data` would have to split.
                    let event = Event::default().event("waiting").data(data);
                    return Some((Ok(event), (state, who, clinic, board, tick, last)));
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
