//! Staff accounts: creation, roles, passwords, reset links, disabling, first-run setup.

use haven_domain::audit::Actor;
use haven_domain::time::Duration;
use haven_domain::{
    Email, OrgId, OrgName, OrgPolicy, Password, PasswordHash, PersonName, Role, Roles, UserId,
    password::hash_password,
};
use haven_store::Store;
use haven_store::auth::TokenPurpose;
use haven_store::users::NewUser;

use crate::ops::{Context, new_id};
use crate::web::{random_bytes, random_token, token_hash};
use crate::{Error, FieldErrors};

/// How long a password reset link works.
pub const RESET_LINK_LIFETIME: Duration = Duration::hours(1);
/// How long the first-run setup link works.
pub const SETUP_LINK_LIFETIME: Duration = Duration::hours(1);

/// A new staff account, as typed by an admin.
pub struct NewStaff<'a> {
    /// Sign-in address.
    pub email: &'a str,
    /// Full name.
    pub name: &'a str,
    /// Roles.
    pub roles: Roles,
    /// Initial password.
    pub password: &'a str,
    /// Whether the user must choose a new password at first sign-in (true when someone
    /// else chose this one).
    pub must_change_password: bool,
}

/// Validated fields of a new account.
struct Checked {
    email: Email,
    name: PersonName,
    password: Password,
}

fn check_new_staff(new: &NewStaff<'_>, errors: &mut FieldErrors) -> Option<Checked> {
    // In the order the forms show the fields, so the error summary reads top to bottom.
    let name = match new.name.trim() {
        "" => {
            errors.add("name", "Enter their full name");
            None
        }
        _ => PersonName::parse(new.name)
            .map_err(|e| errors.add("name", e.to_string()))
            .ok(),
    };
    let email = match new.email.trim() {
        "" => {
            errors.add("email", "Enter an email address");
            None
        }
        _ => Email::parse(new.email)
            .map_err(|e| errors.add("email", e.to_string()))
            .ok(),
    };
    if new.roles.is_empty() {
        errors.add("roles", "Choose at least one role");
    }
    let password = Password::parse(new.password, &[new.name, new.email])
        .map_err(|e| errors.add("password", e.to_string()))
        .ok();
    Some(Checked {
        email: email?,
        name: name?,
        password: password?,
    })
}

/// Hashes a password off the async threads: argon2id is deliberately slow.
pub async fn hash(password: Password) -> Result<PasswordHash, Error> {
    let salt = random_bytes::<16>();
    tokio::task::spawn_blocking(move || hash_password(&password, salt))
        .await
        .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))
}

/// Checks a password against a hash off the async threads; with no hash, spends the same
/// time on a dummy check so that unknown accounts cannot be told apart by timing.
pub async fn verify(hash: Option<PasswordHash>, raw: String) -> bool {
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => h.verify(&raw),
        None => {
            haven_domain::password::dummy_verify(&raw);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Adds a staff account to an organisation.
pub async fn add_user(
    store: &Store,
    ctx: &Context,
    org: &OrgId,
    new: &NewStaff<'_>,
) -> Result<UserId, Error> {
    let mut errors = FieldErrors::default();
    let checked = check_new_staff(new, &mut errors);
    errors.into_result()?;
    let checked = checked.expect("no field errors means every field parsed");
    // Hash before the transaction opens: argon2id is slow, and SQLite admits one writer.
    let hash = hash(checked.password.clone()).await?;
    let mut tx = store.begin().await?;
    let id = insert_user(&mut tx, ctx, org, &checked, new, &hash).await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates the account and its audit entry in `tx`.
async fn insert_user(
    tx: &mut haven_store::Tx,
    ctx: &Context,
    org: &OrgId,
    checked: &Checked,
    new: &NewStaff<'_>,
    hash: &PasswordHash,
) -> Result<UserId, Error> {
    let id = new_id(UserId::from_random);
    let user = NewUser {
        id: &id,
        org_id: org,
        email: &checked.email,
        name: &checked.name,
        roles: new.roles,
        password_hash: Some(hash),
        must_change_password: new.must_change_password,
    };
    tx.create_user(&user, ctx.now).await?;
    let detail = format!("roles: {}", new.roles.to_list());
    ctx.audit(tx, Some(org), "user.create", &format!("user:{id}"), &detail)
        .await?;
    Ok(id)
}

/// First-run setup: spends the setup token and creates the first organisation and its
/// admin, all in one transaction.
pub async fn setup(
    store: &Store,
    ctx: &Context,
    token: &str,
    org_name: &str,
    admin: &NewStaff<'_>,
) -> Result<OrgId, Error> {
    let mut errors = FieldErrors::default();
    let org_name = match org_name.trim() {
        "" => {
            errors.add("organisation", "Enter your organisation's name");
            None
        }
        _ => OrgName::parse(org_name)
            .map_err(|e| errors.add("organisation", e.to_string()))
            .ok(),
    };
    let checked = check_new_staff(admin, &mut errors);
    errors.into_result()?;
    let (org_name, checked) = (
        org_name.expect("no field errors means every field parsed"),
        checked.expect("no field errors means every field parsed"),
    );
    let hash = hash(checked.password.clone()).await?;
    let mut tx = store.begin().await?;
    tx.consume_token(&token_hash(token), TokenPurpose::Setup, ctx.now)
        .await?;
    let org = new_id(OrgId::from_random);
    // Appending to the audit log locks the chain's head until commit, so two setups with
    // two links run one after the other from here, and the count below sees an
    // organisation that another setup has just committed (on PostgreSQL too, where
    // counting first let two concurrent setups both find none).
    ctx.audit(
        &mut tx,
        Some(&org),
        "org.create",
        &format!("org:{org}"),
        "first-run setup",
    )
    .await?;
    if tx.org_count().await? > 0 {
        return Err(Error::NotFound);
    }
    tx.create_org(&org, &org_name, &OrgPolicy::default(), ctx.now)
        .await?;
    insert_user(&mut tx, ctx, &org, &checked, admin, &hash).await?;
    tx.commit().await?;
    Ok(org)
}

/// Creates a first-run setup link (only while no organisation exists).
pub async fn setup_link(
    store: &Store,
    now: haven_domain::time::OffsetDateTime,
    public_url: &str,
) -> Result<String, Error> {
    let token = random_token();
    let mut tx = store.begin().await?;
    tx.create_token(
        &token_hash(&token),
        TokenPurpose::Setup,
        None,
        now,
        now + SETUP_LINK_LIFETIME,
    )
    .await?;
    tx.commit().await?;
    Ok(format!("{public_url}/setup/{token}"))
}

/// Replaces a user's roles.
pub async fn set_roles(
    store: &Store,
    ctx: &Context,
    org: &OrgId,
    user: &UserId,
    roles: Roles,
) -> Result<(), Error> {
    if roles.is_empty() {
        return Err(crate::ops::orgs::invalid(
            "roles",
            "choose at least one role",
        ));
    }
    let old = store.user(org, user).await?.roles;
    if old == roles {
        return Ok(());
    }
    if ctx.actor == Actor::Staff(user.clone())
        && old.contains(Role::Admin)
        && !roles.contains(Role::Admin)
    {
        return Err(crate::ops::orgs::invalid(
            "roles",
            "you cannot remove your own admin role",
        ));
    }
    let mut tx = store.begin().await?;
    tx.set_roles(org, user, roles).await?;
    let detail = format!("roles: {} -> {}", old.to_list(), roles.to_list());
    ctx.audit(
        &mut tx,
        Some(org),
        "user.roles_change",
        &format!("user:{user}"),
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Issues a single-use password reset link for a user, withdrawing any earlier one.
pub async fn issue_reset_link(
    store: &Store,
    ctx: &Context,
    public_url: &str,
    org: &OrgId,
    user: &UserId,
) -> Result<String, Error> {
    store.user(org, user).await?;
    let token = random_token();
    let mut tx = store.begin().await?;
    tx.revoke_tokens(user, TokenPurpose::PasswordReset, ctx.now)
        .await?;
    tx.create_token(
        &token_hash(&token),
        TokenPurpose::PasswordReset,
        Some(user),
        ctx.now,
        ctx.now + RESET_LINK_LIFETIME,
    )
    .await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "user.password_reset_issued",
        &format!("user:{user}"),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(format!("{public_url}/reset/{token}"))
}

/// Whether a reset link is still usable (the page checks before showing its form).
pub async fn reset_link_is_live(
    store: &Store,
    token: &str,
    now: haven_domain::time::OffsetDateTime,
) -> Result<bool, Error> {
    Ok(store
        .token_is_live(&token_hash(token), TokenPurpose::PasswordReset, now)
        .await?)
}

/// Spends a reset link and sets the new password; ends the user's other sessions.
pub async fn complete_reset(
    store: &Store,
    now: haven_domain::time::OffsetDateTime,
    client_addr: Option<String>,
    token: &str,
    new_password: &str,
) -> Result<(), Error> {
    let hashed_token = token_hash(token);
    let user_id = store
        .live_token_user(&hashed_token, TokenPurpose::PasswordReset, now)
        .await?
        .ok_or(Error::NotFound)?;
    let user = store_user_any_org(store, &user_id).await?;
    let password = Password::parse(new_password, &[user.name.as_str(), user.email.as_str()])
        .map_err(|e| crate::ops::orgs::invalid("password", e))?;
    // Hash before the write transaction opens: argon2id is slow and SQLite admits one writer.
    let hash = hash(password).await?;
    let mut tx = store.begin().await?;
    // Spending the token inside the transaction keeps the link single-use even when two
    // requests got this far at once: only one of them spends it.
    let spent_for = tx
        .consume_token(&hashed_token, TokenPurpose::PasswordReset, now)
        .await?;
    if spent_for.as_ref() != Some(&user_id) {
        return Err(Error::NotFound);
    }
    tx.set_password(&user_id, &hash, false).await?;
    tx.delete_user_sessions(&user_id).await?;
    let ctx = Context {
        actor: Actor::Staff(user_id.clone()),
        client_addr,
        now,
    };
    ctx.audit(
        &mut tx,
        Some(&user.org_id),
        "user.password_reset",
        &format!("user:{user_id}"),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes a signed-in user's own password, after checking the current one.
pub async fn change_password(
    store: &Store,
    ctx: &Context,
    user: &haven_store::users::User,
    current: &str,
    new: &str,
) -> Result<(), Error> {
    let mut errors = FieldErrors::default();
    if !verify(user.password_hash.clone(), current.to_string()).await {
        errors.add("current", "this is not your current password");
    }
    let password = Password::parse(new, &[user.name.as_str(), user.email.as_str()])
        .map_err(|e| errors.add("password", e.to_string()))
        .ok();
    if current == new && errors.is_empty() {
        errors.add(
            "password",
            "choose a password different from the current one",
        );
    }
    errors.into_result()?;
    let hash = hash(password.expect("no field errors means the password parsed")).await?;
    let mut tx = store.begin().await?;
    tx.set_password(&user.id, &hash, false).await?;
    ctx.audit(
        &mut tx,
        Some(&user.org_id),
        "user.password_change",
        &format!("user:{}", user.id),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Disables or re-enables an account; disabling ends its sessions at once.
pub async fn set_disabled(
    store: &Store,
    ctx: &Context,
    org: &OrgId,
    user: &UserId,
    disabled: bool,
) -> Result<(), Error> {
    store.user(org, user).await?;
    if disabled && ctx.actor == Actor::Staff(user.clone()) {
        return Err(Error::BadRequest(
            "you cannot disable your own account".into(),
        ));
    }
    let mut tx = store.begin().await?;
    tx.set_disabled(user, disabled).await?;
    if disabled {
        tx.delete_user_sessions(user).await?;
    }
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    ctx.audit(&mut tx, Some(org), action, &format!("user:{user}"), "")
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of a user (an admin's action, or the user's own "sign out everywhere").
pub async fn end_sessions(
    store: &Store,
    ctx: &Context,
    org: &OrgId,
    user: &UserId,
) -> Result<u64, Error> {
    store.user(org, user).await?;
    let mut tx = store.begin().await?;
    let ended = tx.delete_user_sessions(user).await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "user.sessions_end",
        &format!("user:{user}"),
        &format!("sessions: {ended}"),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}

/// Removes a user's MFA enrolment so they enrol again at next sign-in (lost phone).
pub async fn reset_mfa(
    store: &Store,
    ctx: &Context,
    org: &OrgId,
    user: &UserId,
) -> Result<(), Error> {
    store.user(org, user).await?;
    let mut tx = store.begin().await?;
    tx.clear_totp(user).await?;
    tx.delete_user_sessions(user).await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "user.mfa_reset",
        &format!("user:{user}"),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Finds a user by id without knowing their organisation (only for reset links, which name
/// the user themselves).
async fn store_user_any_org(store: &Store, id: &UserId) -> Result<haven_store::users::User, Error> {
    Ok(store.user_by_id(id).await?)
}
