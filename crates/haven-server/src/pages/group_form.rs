//! The group part of the booking form: co-hosts and one row per attendee. Rows appear
//! once the group kind is chosen and the form posted back ("Add attendees to the group");
//! "Add another attendee" posts it back with one more row, so adding rows needs no script
//! and works by keyboard; rows left empty are skipped.

use haven_domain::group::MAX_ATTENDEES;
use maud::{Markup, html};

use crate::FieldErrors;
use crate::ops::booking::Birth;
use crate::ops::group::{GroupPersonInput, row_field};
use crate::pages::form::{checkboxes, radios};
use crate::pages::{Input, field};
use crate::web::FormData;

/// Rows shown when the group kind is first posted back.
const FIRST_ROWS: usize = 3;
/// The most rows read from a posted form: enough to refuse a 31st attendee by name.
const MOST_ROWS: usize = MAX_ATTENDEES + 10;

/// How many attendee rows the posted form had (none when it first opens).
pub fn rows(values: &FormData) -> usize {
    values
        .get("rows")
        .parse::<usize>()
        .map_or(0, |n| n.min(MOST_ROWS))
}

/// How many rows to show: one more when asked, and a first few once a group is chosen.
pub fn shown(values: &FormData) -> usize {
    let posted = rows(values);
    let group = values.get("kind") == haven_domain::consultation::Kind::Group.as_str();
    let first = if group { FIRST_ROWS } else { 1 };
    match (adding_row(values), posted) {
        (true, 0) => first,
        (true, n) => (n + 1).min(MAX_ATTENDEES),
        (false, 0) if group => FIRST_ROWS,
        (false, n) => n,
    }
}

/// Whether the form was posted to add a row rather than to book.
pub fn adding_row(values: &FormData) -> bool {
    values.get("add_row") == "yes"
}

/// The posted attendee rows.
pub fn attendees(values: &FormData) -> Vec<GroupPersonInput<'_>> {
    (0..rows(values))
        .map(|row| GroupPersonInput {
            name: values.get(row_field(row, "name")),
            birth: Birth::Iso(values.get(row_field(row, "date_of_birth"))),
            nhs_number: values.get(row_field(row, "nhs_number")),
            mobile: values.get(row_field(row, "mobile")),
            email: values.get(row_field(row, "email")),
            contact: values.get(row_field(row, "contact")),
        })
        .collect()
}

/// The group section of the form, with `shown` attendee rows.
pub fn section(
    values: &FormData,
    shown: usize,
    clinicians: &[(&str, &str)],
    errors: &FieldErrors,
) -> Markup {
    let cohosts: Vec<&str> = values.all("cohosts").collect();
    let error = errors.get("attendees");
    html! {
        h2 id="group" { "Group attendees (group consultations only)" }
        p class="hint" { "Up to " (MAX_ATTENDEES) " attendees, each 16 or over, each with their own invitation. The clinician above hosts the group (you, if you are a clinician and choose nobody). Attendees see each other's first names only." }
        (checkboxes("cohosts", "Co-hosts (optional)", Some("Clinicians of the clinic who can also run the session."), clinicians, &cohosts, errors))
        div id="attendees" class={ "field" @if error.is_some() { " field-error" } } {
            @if let Some(e) = error {
                p class="error-message" id="attendees-error" { span class="visually-hidden" { "Error: " } (e) }
            }
            input type="hidden" name="rows" value=(shown);
            @for row in 0..shown {
                fieldset class="attendee-row" {
                    legend { "Attendee " (row + 1) }
                    (field(row_field(row, "name"), "Full name", values.get(row_field(row, "name")), Input::TEXT, errors))
                    (field(row_field(row, "date_of_birth"), "Date of birth", values.get(row_field(row, "date_of_birth")), Input { kind: "date", autocomplete: "off", hint: None }, errors))
                    (field(row_field(row, "nhs_number"), "NHS number (optional)", values.get(row_field(row, "nhs_number")), Input::TEXT, errors))
                    (field(row_field(row, "mobile"), "UK mobile number", values.get(row_field(row, "mobile")), Input { kind: "tel", autocomplete: "off", hint: None }, errors))
                    (field(row_field(row, "email"), "Email address", values.get(row_field(row, "email")), Input { kind: "email", autocomplete: "off", hint: None }, errors))
                    (radios(row_field(row, "contact"), "Send the invitation by", None, &[("sms", "Text message"), ("email", "Email")], values.get(row_field(row, "contact")), errors))
                }
            }
            @if shown == 0 {
                button type="submit" name="add_row" value="yes" class="secondary" { "Add attendees to the group" }
            } @else if shown < MAX_ATTENDEES {
                button type="submit" name="add_row" value="yes" class="secondary" { "Add another attendee" }
            }
        }
    }
}
