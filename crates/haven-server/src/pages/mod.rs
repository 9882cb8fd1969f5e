//! Server-rendered pages. Every page works without JavaScript and carries no inline script;
//! forms post back with a CSRF token; errors are tied to their fields (WCAG 2.2 AA).

pub mod account;
pub mod admin;
pub mod admit;
pub mod audit;
pub mod call;
pub mod chat;
pub mod clinics;
pub mod consultations;
pub mod form;
pub mod governance;
pub mod group_form;
pub mod group_host;
pub mod group_join;
pub mod home;
pub mod join;
mod join_code;
pub mod journey;
pub mod meetings;
pub mod notes;
pub mod people;
mod people_admit;
pub mod policy;
pub mod precheck;
pub mod setup;
pub mod signin;
pub mod transfer;
pub mod waiting;

use haven_domain::Role;
use maud::{DOCTYPE, Markup, html};

use crate::FieldErrors;
use crate::web::SignedIn;

/// The page frame: skip link, header with navigation for the signed-in user, main content.
pub fn layout(title: &str, who: Option<&SignedIn>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Haven" }
                link rel="stylesheet" href="/assets/haven.css";
            }
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                header class="site-header" {
                    a class="brand" href="/" { "Haven" }
                    @if let Some(who) = who {
                        nav aria-label="Main" {
                            ul {
                                li { a href="/" { "Home" } }
                                @if [Role::Clinician, Role::Receptionist, Role::Admin].iter().any(|r| who.user.roles.contains(*r)) {
                                    li { a href="/consultations" { "Consultations" } }
                                }
                                @if who.user.roles.contains(Role::Admin) {
                                    li { a href="/admin/users" { "Users" } }
                                    li { a href="/admin/clinics" { "Clinics" } }
                                    li { a href="/admin/policy" { "Policy" } }
                                }
                                @if who.user.roles.contains(Role::IgAuditor) {
                                    li { a href="/audit" { "Audit log" } }
                                }
                                @if [Role::Admin, Role::IgAuditor].iter().any(|r| who.user.roles.contains(*r)) {
                                    li { a href="/admin/journey" { "Journey funnel" } }
                                    li { a href="/admin/governance" { "Governance" } }
                                }
                                li { a href="/account" { "Your account" } }
                            }
                        }
                        form class="signout" method="post" action="/signout" {
                            (csrf_field(&who.csrf))
                            button type="submit" class="link-button" { "Sign out" }
                        }
                    }
                }
                main id="main" tabindex="-1" { (content) }
            }
        }
    }
}

/// A page with a heading and one paragraph (errors, confirmations).
pub fn message_page(title: &str, message: &str) -> Markup {
    layout(
        title,
        None,
        html! {
            h1 { (title) }
            p { (message) }
            p { a href="/" { "Go to the start page" } }
        },
    )
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="_csrf" value=(token); }
}

/// A list of all the form's errors, each linking to its field.
pub fn error_summary(errors: &FieldErrors) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="error-summary" role="alert" aria-labelledby="error-summary-title" {
                h2 id="error-summary-title" { "There is a problem" }
                ul {
                    @for (field, message) in errors.iter() {
                        li { a href={ "#" (field) } { (message) } }
                    }
                }
            }
        }
    }
}

/// What kind of input a [`field`] is.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    /// The `type` attribute.
    pub kind: &'a str,
    /// The `autocomplete` attribute.
    pub autocomplete: &'a str,
    /// Help shown under the label.
    pub hint: Option<&'a str>,
}

impl Input<'static> {
    /// A plain text field.
    pub const TEXT: Input<'static> = Input {
        kind: "text",
        autocomplete: "off",
        hint: None,
    };
}

/// A labelled input whose error message and hint are tied to it with `aria-describedby`.
pub fn field(
    name: &str,
    label: &str,
    value: &str,
    input: Input<'_>,
    errors: &FieldErrors,
) -> Markup {
    let error = errors.get(name);
    let mut described = Vec::new();
    if input.hint.is_some() {
        described.push(format!("{name}-hint"));
    }
    if error.is_some() {
        described.push(format!("{name}-error"));
    }
    let described = described.join(" ");
    html! {
        div class={ "field" @if error.is_some() { " field-error" } } {
            label for=(name) { (label) }
            @if let Some(hint) = input.hint {
                p class="hint" id={ (name) "-hint" } { (hint) }
            }
            @if let Some(error) = error {
                p class="error-message" id={ (name) "-error" } {
                    span class="visually-hidden" { "Error: " } (error)
                }
            }
            input id=(name) name=(name) type=(input.kind) value=(value)
                autocomplete=(input.autocomplete)
                aria-describedby=[(!described.is_empty()).then_some(described.as_str())]
                aria-invalid=[error.map(|_| "true")];
        }
    }
}

/// Checkboxes for roles, with the current ones ticked.
pub fn role_checkboxes(current: haven_domain::Roles, errors: &FieldErrors) -> Markup {
    let error = errors.get("roles");
    html! {
        fieldset id="roles" class={ "field" @if error.is_some() { " field-error" } }
            aria-describedby=[error.map(|_| "roles-error")] {
            legend { "Roles" }
            @if let Some(error) = error {
                p class="error-message" id="roles-error" {
                    span class="visually-hidden" { "Error: " } (error)
                }
            }
            @for role in Role::ALL {
                div class="checkbox" {
                    input type="checkbox" id={ "role-" (role.as_str()) } name="role" value=(role.as_str())
                        checked[current.contains(role)];
                    label for={ "role-" (role.as_str()) } { (role.label()) }
                }
            }
        }
    }
}

/// Dates as people read them: "21 Nov 2026, 14:05 UTC".
pub fn when(t: haven_domain::time::OffsetDateTime) -> String {
    let format = haven_domain::time::macros::format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
    );
    t.format(&format)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}
