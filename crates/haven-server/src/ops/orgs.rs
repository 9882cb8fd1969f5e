//! Organisations, clinics and policy.

use haven_domain::{ClinicId, ClinicName, OrgId, OrgName, OrgPolicy, UserId};

use crate::ops::{Context, new_id};
use crate::{AppState, Error, FieldErrors};

/// Creates an organisation with the default policy.
pub async fn create_org(
    store: &haven_store::Store,
    ctx: &Context,
    name: &str,
) -> Result<OrgId, Error> {
    let name = OrgName::parse(name).map_err(|e| invalid("name", e))?;
    let id = new_id(OrgId::from_random);
    let mut tx = store.begin().await?;
    tx.create_org(&id, &name, &OrgPolicy::default(), ctx.now)
        .await?;
    ctx.audit(&mut tx, Some(&id), "org.create", &format!("org:{id}"), "")
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Replaces an organisation's policy; the audit entry lists each field changed.
pub async fn set_policy(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    new: &OrgPolicy,
) -> Result<(), Error> {
    let old = state.store.org(org).await?.policy;
    let changes = old.changes(new);
    if changes.is_empty() {
        return Ok(());
    }
    let detail = changes
        .iter()
        .map(|c| format!("{}: {} -> {}", c.field, c.old, c.new))
        .collect::<Vec<_>>()
        .join("; ");
    let mut tx = state.store.begin().await?;
    tx.set_policy(org, new).await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "org.policy_change",
        &format!("org:{org}"),
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Creates a clinic.
pub async fn create_clinic(
    store: &haven_store::Store,
    ctx: &Context,
    org: &OrgId,
    name: &str,
) -> Result<ClinicId, Error> {
    let name = ClinicName::parse(name).map_err(|e| invalid("name", e))?;
    let id = new_id(ClinicId::from_random);
    let mut tx = store.begin().await?;
    tx.create_clinic(org, &id, &name, ctx.now).await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "clinic.create",
        &format!("clinic:{id}"),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Adds a user to a clinic or removes them.
pub async fn set_membership(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    clinic: &ClinicId,
    user: &UserId,
    member: bool,
) -> Result<(), Error> {
    let mut tx = state.store.begin().await?;
    tx.set_membership(org, clinic, user, member).await?;
    let action = if member {
        "clinic.member_add"
    } else {
        "clinic.member_remove"
    };
    ctx.audit(
        &mut tx,
        Some(org),
        action,
        &format!("clinic:{clinic}"),
        &format!("user:{user}"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A field-level error from a domain parse failure.
pub(crate) fn invalid(field: &'static str, e: impl std::fmt::Display) -> Error {
    let mut errors = FieldErrors::default();
    errors.add(field, e.to_string());
    Error::Invalid(errors)
}

/// Makes an API key for a booking or GP system; returns the key, shown this once (only its
/// hash is kept). The label must be unique within the organisation.
pub async fn create_api_key(
    store: &haven_store::Store,
    ctx: &Context,
    org: &OrgId,
    label: &str,
) -> Result<String, Error> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
        let mut errors = FieldErrors::default();
        errors.add(
            "name",
            "The key's name must be 1 to 100 characters, on one line",
        );
        return Err(Error::Invalid(errors));
    }
    let id = new_id(haven_domain::ApiKeyId::from_random);
    let (key, hash) = crate::api::new_api_key();
    let mut tx = store.begin().await?;
    tx.create_api_key(org, &id, label, &hash, ctx.now).await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "api_key.create",
        &format!("api_key:{id}"),
        label,
    )
    .await?;
    tx.commit().await?;
    Ok(key)
}
