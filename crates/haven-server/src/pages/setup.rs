//! First-run setup: the one-time link printed at start creates the first organisation and
//! its first admin.

use axum::Extension;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use haven_domain::audit::Actor;
use haven_domain::{Role, Roles};
use haven_store::auth::TokenPurpose;
use maud::{Markup, html};

use crate::ops::Context;
use crate::ops::accounts::{NewStaff, setup};
use crate::pages::{Input, csrf_field, error_summary, field, layout, message_page};
use crate::web::{ClientInfo, CsrfToken, FormData, token_hash};
use crate::{AppState, Error, FieldErrors};

/// The setup routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/setup/{token}", get(show).post(submit))
}

fn dead_link() -> Response {
    (
        axum::http::StatusCode::NOT_FOUND,
        message_page(
            "This setup link cannot be used",
            "It has expired or has already been used. If Haven has not been set up yet, \
             restart it to print a new link.",
        ),
    )
        .into_response()
}

fn form(csrf: &str, values: &FormData, errors: &FieldErrors) -> Markup {
    layout(
        "Set up Haven",
        None,
        html! {
            h1 { "Set up Haven" }
            p { "Create your organisation and your own administrator account. You can add clinics and colleagues next." }
            (error_summary(errors))
            form method="post" novalidate {
                (csrf_field(csrf))
                (field("organisation", "Organisation name", values.get("organisation"), Input { hint: Some("For example, Riverside Health Centre"), ..Input::TEXT }, errors))
                (field("name", "Your full name", values.get("name"), Input { autocomplete: "name", ..Input::TEXT }, errors))
                (field("email", "Your work email address", values.get("email"), Input { kind: "email", autocomplete: "email", hint: None }, errors))
                (field("password", "Choose a password", "", Input { kind: "password", autocomplete: "new-password", hint: Some("At least 12 characters. A passphrase of three or more random words is strong and easy to remember.") }, errors))
                button type="submit" { "Create organisation" }
            }
        },
    )
}

async fn show(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
) -> Result<Response, Error> {
    let live = state
        .store
        .token_is_live(&token_hash(&token), TokenPurpose::Setup, state.clock.now())
        .await?;
    if !live || state.store.org_count().await? > 0 {
        return Ok(dead_link());
    }
    Ok(form(&csrf.0, &FormData::default(), &FieldErrors::default()).into_response())
}

async fn submit(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Extension(client): Extension<ClientInfo>,
    Path(token): Path<String>,
    values: FormData,
) -> Result<Response, Error> {
    let ctx = Context {
        actor: Actor::System,
        client_addr: Some(client.addr.to_string()),
        now: state.clock.now(),
    };
    let admin = NewStaff {
        email: values.get("email"),
        name: values.get("name"),
        roles: Roles::from_iter([Role::Admin]),
        password: values.get("password"),
        must_change_password: false,
    };
    match setup(
        &state.store,
        &ctx,
        &token,
        values.get("organisation"),
        &admin,
    )
    .await
    {
        Ok(_) => {
            tracing::info!("first organisation created");
            Ok(Redirect::to("/signin?setup=done").into_response())
        }
        Err(Error::Invalid(errors)) => Ok((
            axum::http::StatusCode::BAD_REQUEST,
            form(&csrf.0, &values, &errors),
        )
            .into_response()),
        Err(Error::NotFound) => Ok(dead_link()),
        Err(e) => Err(e),
    }
}
