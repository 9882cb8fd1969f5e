//! Helpers shared by the store tests: fixed times, quick rows, and the chain check that
//! `haven audit verify` runs.

use std::sync::OnceLock;

use haven_domain::audit::{Actor, ChainBreak, ChainVerifier, GENESIS_HASH};
use haven_domain::password::hash_password;
use haven_domain::{
    Email, OrgId, OrgName, OrgPolicy, Password, PasswordHash, PersonName, Role, Roles, UserId,
};
use haven_store::audit::NewAudit;
use haven_store::users::NewUser;
use haven_store::{Store, Tx};
use time::OffsetDateTime;
use time::macros::datetime;

/// A fixed "now", so every time in these tests is known.
pub const T0: OffsetDateTime = datetime!(2025-01-06 09:00:00 UTC);

/// A random id of any kind.
pub fn id<T>(make: fn([u8; 16]) -> T) -> T {
    make(rand::random())
}

/// One argon2id hash for the whole test binary: hashing costs tens of milliseconds, and
/// only its round trip matters here.
pub fn password_hash() -> &'static PasswordHash {
    static HASH: OnceLock<PasswordHash> = OnceLock::new();
    HASH.get_or_init(|| {
        let password = Password::parse("copper lantern orchard wisdom", &[])
            .expect("a four-word passphrase meets the policy");
        hash_password(&password, [7; 16])
    })
}

/// Connects to a fresh database's URL.
pub async fn connect(url: &str) -> Store {
    Store::connect(url).await.expect("the test database opens")
}

/// Creates an organisation with the default policy, in a transaction of its own.
pub async fn new_org(store: &Store, name: &str) -> OrgId {
    let org = id(OrgId::from_random);
    let mut tx = store.begin().await.expect("begin");
    tx.create_org(
        &org,
        &OrgName::parse(name).expect("a valid name"),
        &OrgPolicy::default(),
        T0,
    )
    .await
    .expect("create the organisation");
    tx.commit().await.expect("commit");
    org
}

/// Creates an account inside `tx`.
pub async fn create_user_in(tx: &mut Tx, org: &OrgId, email: &str, roles: &[Role]) -> UserId {
    let user = id(UserId::from_random);
    let email = Email::parse(email).expect("a valid address");
    let name = PersonName::parse("Ann Example").expect("a valid name");
    let roles: Roles = roles.iter().copied().collect();
    tx.create_user(
        &NewUser {
            id: &user,
            org_id: org,
            email: &email,
            name: &name,
            roles,
            password_hash: Some(password_hash()),
            must_change_password: false,
        },
        T0,
    )
    .await
    .expect("create the account");
    user
}

/// Creates a clinician account, in a transaction of its own.
pub async fn new_user(store: &Store, org: &OrgId, email: &str) -> UserId {
    let mut tx = store.begin().await.expect("begin");
    let user = create_user_in(&mut tx, org, email, &[Role::Clinician]).await;
    tx.commit().await.expect("commit");
    user
}

/// An audit entry by `actor`.
pub fn entry<'a>(
    actor: &'a Actor,
    action: &'a str,
    object: &'a str,
    org: Option<&'a OrgId>,
) -> NewAudit<'a> {
    NewAudit {
        actor,
        action,
        object,
        org_id: org,
        client_addr: None,
        detail: "",
    }
}

/// Walks the whole audit log as `haven audit verify` does: `Ok(n)` when all `n` entries
/// link up and end at the recorded head.
pub async fn verify_chain(store: &Store) -> Result<u64, ChainBreak> {
    let mut verifier = ChainVerifier::new(GENESIS_HASH.to_string(), 1);
    let mut after = 0;
    loop {
        let page = store.audit_page(after, 100).await.expect("read a page");
        for record in &page {
            verifier.push(record)?;
        }
        match page.last() {
            Some(last) => after = last.seq,
            None => break,
        }
    }
    let (seq, hash) = store.audit_head().await.expect("read the head");
    verifier.finish((seq > 0).then_some((seq, hash.as_str())))
}
