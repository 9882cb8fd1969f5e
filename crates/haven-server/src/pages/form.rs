//! Form controls beyond the plain text [`field`](super::field): radios, selects and the
//! three-part date, each with its label, hint and error tied together for screen readers
//! (the GOV.UK Design System patterns).

use maud::{Markup, html};

use crate::FieldErrors;

/// The error paragraph of a control, if it has one.
fn error_line(name: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error {
            p class="error-message" id={ (name) "-error" } {
                span class="visually-hidden" { "Error: " } (error)
            }
        }
    }
}

fn described(name: &str, hint: Option<&str>, error: Option<&str>) -> Option<String> {
    let mut ids = Vec::new();
    if hint.is_some() {
        ids.push(format!("{name}-hint"));
    }
    if error.is_some() {
        ids.push(format!("{name}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// One radio button per `(value, label)`, the `current` one checked.
pub fn radios(
    name: &str,
    legend: &str,
    hint: Option<&str>,
    options: &[(&str, &str)],
    current: &str,
    errors: &FieldErrors,
) -> Markup {
    choices(
        "radio",
        name,
        legend,
        hint,
        options,
        |v| v == current,
        errors,
    )
}

/// Checkboxes of `(value, label)` under one legend, those in `current` ticked; the form
/// sends every ticked value under `name`.
pub fn checkboxes(
    name: &str,
    legend: &str,
    hint: Option<&str>,
    options: &[(&str, &str)],
    current: &[&str],
    errors: &FieldErrors,
) -> Markup {
    choices(
        "checkbox",
        name,
        legend,
        hint,
        options,
        |v| current.contains(&v),
        errors,
    )
}

fn choices(
    kind: &str,
    name: &str,
    legend: &str,
    hint: Option<&str>,
    options: &[(&str, &str)],
    chosen: impl Fn(&str) -> bool,
    errors: &FieldErrors,
) -> Markup {
    let error = errors.get(name);
    html! {
        fieldset id=(name) class={ "field" @if error.is_some() { " field-error" } }
            aria-describedby=[described(name, hint, error)] {
            legend { (legend) }
            @if let Some(hint) = hint { p class="hint" id={ (name) "-hint" } { (hint) } }
            (error_line(name, error))
            @for (value, label) in options {
                div class="checkbox" {
                    input type=(kind) id={ (name) "-" (value) } name=(name) value=(value)
                        checked[chosen(value)];
                    label for={ (name) "-" (value) } { (label) }
                }
            }
        }
    }
}

/// A drop-down list of `(value, label)`, the `current` one selected; `blank` adds a first
/// option with an empty value.
pub fn select(
    name: &str,
    label: &str,
    blank: Option<&str>,
    options: &[(String, String)],
    current: &str,
    errors: &FieldErrors,
) -> Markup {
    let error = errors.get(name);
    html! {
        div class={ "field" @if error.is_some() { " field-error" } } {
            label for=(name) { (label) }
            (error_line(name, error))
            select id=(name) name=(name) aria-describedby=[described(name, None, error)]
                aria-invalid=[error.map(|_| "true")] {
                @if let Some(blank) = blank { option value="" { (blank) } }
                @for (value, text) in options {
                    option value=(value) selected[current == value] { (text) }
                }
            }
        }
    }
}

/// Day, month and year boxes under one legend: `{name}-day`, `{name}-month`, `{name}-year`.
/// `own_birthday` lets the browser fill in the user's own date of birth (a patient
/// confirming theirs), never on staff forms about someone else.
pub fn date_parts(
    name: &str,
    legend: &str,
    hint: Option<&str>,
    values: (&str, &str, &str),
    own_birthday: bool,
    errors: &FieldErrors,
) -> Markup {
    let error = errors.get(name);
    let fill = |part: &'static str| if own_birthday { part } else { "off" };
    let parts = [
        ("day", "Day", values.0, 2, fill("bday-day")),
        ("month", "Month", values.1, 2, fill("bday-month")),
        ("year", "Year", values.2, 4, fill("bday-year")),
    ];
    html! {
        fieldset id=(name) class={ "field" @if error.is_some() { " field-error" } }
            aria-describedby=[described(name, hint, error)] {
            legend { (legend) }
            @if let Some(hint) = hint { p class="hint" id={ (name) "-hint" } { (hint) } }
            (error_line(name, error))
            div class="date-parts" {
                @for (part, label, value, width, autocomplete) in parts {
                    div class="date-part" {
                        label for={ (name) "-" (part) } { (label) }
                        input id={ (name) "-" (part) } name={ (name) "-" (part) } type="text"
                            inputmode="numeric" size=(width) value=(value)
                            autocomplete=(autocomplete)
                            aria-invalid=[error.map(|_| "true")];
                    }
                }
            }
        }
    }
}
