//! Every kind of row round-trips the same way on both engines, and no read reaches another
//! organisation's rows.

use haven_domain::audit::Actor;
use haven_domain::{
    ClinicId, ClinicName, ConsultationLimit, Email, IdentityCheck, InviteLifetime, OrgId, OrgName,
    OrgPolicy, PasswordHash, Role, Roles, TotpSecret, UserId,
};
use haven_store::audit::AuditFilter;
use haven_store::testing::fresh_database;
use haven_store::{Error, Store};
use time::Duration;

use crate::common::{T0, connect, create_user_in, entry, id, new_org, new_user, password_hash};

async fn new_clinic(store: &Store, org: &OrgId, name: &str) -> ClinicId {
    let clinic = id(ClinicId::from_random);
    let mut tx = store.begin().await.expect("begin");
    tx.create_clinic(org, &clinic, &ClinicName::parse(name).expect("valid"), T0)
        .await
        .expect("create clinic");
    tx.commit().await.expect("commit");
    clinic
}

fn email(s: &str) -> Email {
    Email::parse(s).expect("a valid address")
}

#[tokio::test]
async fn an_organisation_and_its_policy_and_clinics_read_back_as_written() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    assert_eq!(store.org_count().await.unwrap(), 0);

    let policy = OrgPolicy {
        mfa_required: false,
        recording_allowed: true,
        file_sharing_allowed: true,
        chat_retained: true,
        invite_lifetime: InviteLifetime::hours(48).unwrap(),
        identity_check: IdentityCheck::NameDateOfBirthAndSmsCode,
        consultation_limit: ConsultationLimit::minutes(45).unwrap(),
    };
    let org = id(OrgId::from_random);
    let name = OrgName::parse("Riverside Health Centre").unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.create_org(&org, &name, &policy, T0).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.org_count().await.unwrap(), 1);
    let read = store.org(&org).await.unwrap();
    assert_eq!(read.id, org);
    assert_eq!(read.name, name);
    assert_eq!(read.policy, policy);
    assert_eq!(read.created_at, T0);
    let by_name = store
        .org_by_name(&name)
        .await
        .unwrap()
        .expect("found by name");
    assert_eq!(by_name.id, org);
    assert!(
        store
            .org_by_name(&OrgName::parse("Nowhere").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store.org(&id(OrgId::from_random)).await,
        Err(Error::NotFound)
    ));

    // Back to the defaults, and every field follows.
    let mut tx = store.begin().await.unwrap();
    tx.set_policy(&org, &OrgPolicy::default()).await.unwrap();
    assert!(matches!(
        tx.set_policy(&id(OrgId::from_random), &policy).await,
        Err(Error::NotFound)
    ));
    tx.commit().await.unwrap();
    assert_eq!(store.org(&org).await.unwrap().policy, OrgPolicy::default());

    // Clinics list by name; a rename shows.
    let physio = new_clinic(&store, &org, "Physiotherapy").await;
    let antenatal = new_clinic(&store, &org, "Antenatal").await;
    let names = |clinics: Vec<haven_store::orgs::Clinic>| -> Vec<String> {
        clinics.iter().map(|c| c.name.to_string()).collect()
    };
    assert_eq!(
        names(store.clinics(&org).await.unwrap()),
        ["Antenatal", "Physiotherapy"]
    );
    let mut tx = store.begin().await.unwrap();
    tx.rename_clinic(
        &org,
        &physio,
        &ClinicName::parse("Musculoskeletal").unwrap(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let clinic = store.clinic(&org, &physio).await.unwrap();
    assert_eq!(clinic.name.as_str(), "Musculoskeletal");
    assert_eq!(clinic.org_id, org);
    assert_eq!(clinic.created_at, T0);
    assert_eq!(store.clinic(&org, &antenatal).await.unwrap().id, antenatal);
}

#[tokio::test]
async fn a_user_with_roles_password_totp_and_clinics_reads_back_as_written() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let clinic = new_clinic(&store, &org, "Physiotherapy").await;

    let mut tx = store.begin().await.unwrap();
    let user = create_user_in(
        &mut tx,
        &org,
        "Ann@Example.org",
        &[Role::Admin, Role::Clinician],
    )
    .await;
    tx.commit().await.unwrap();

    // The address is found whichever way it is typed.
    let read = store
        .user_by_email(&email("ANN@example.ORG"))
        .await
        .unwrap()
        .expect("found by email");
    assert_eq!(read.id, user);
    assert_eq!(read.org_id, org);
    assert_eq!(read.email.as_str(), "ann@example.org");
    assert_eq!(read.name.as_str(), "Ann Example");
    assert_eq!(read.roles.to_list(), "admin,clinician");
    assert_eq!(
        read.password_hash.as_ref().map(PasswordHash::as_str),
        Some(password_hash().as_str())
    );
    assert!(!read.must_change_password);
    assert!(read.totp_secret.is_none());
    assert_eq!(read.totp_last_step, None);
    assert!(!read.disabled);
    assert_eq!(read.created_at, T0);
    assert_eq!(store.user(&org, &user).await.unwrap().id, user);
    assert_eq!(store.user_by_id(&user).await.unwrap().id, user);
    assert_eq!(store.users(&org).await.unwrap().len(), 1);

    // Roles, password, disabling.
    let other_hash = PasswordHash::from_stored(password_hash().as_str().to_string()).unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.set_roles(
        &org,
        &user,
        [Role::IgAuditor, Role::Receptionist].into_iter().collect(),
    )
    .await
    .unwrap();
    tx.set_password(&user, &other_hash, true).await.unwrap();
    tx.set_disabled(&user, true).await.unwrap();
    tx.commit().await.unwrap();
    let read = store.user(&org, &user).await.unwrap();
    assert_eq!(read.roles.to_list(), "receptionist,ig_auditor");
    assert!(read.must_change_password);
    assert!(read.disabled);

    // TOTP: a step is accepted once, never an earlier one; recovery codes work once.
    let secret = TotpSecret::from_bytes([42; 20]);
    let codes = ["hash-one".to_string(), "hash-two".to_string()];
    let mut tx = store.begin().await.unwrap();
    tx.enrol_totp(&user, &secret, 100, &codes).await.unwrap();
    tx.commit().await.unwrap();
    let read = store.user(&org, &user).await.unwrap();
    assert_eq!(
        read.totp_secret.as_ref().map(TotpSecret::to_base32),
        Some(secret.to_base32())
    );
    assert_eq!(read.totp_last_step, Some(100));

    let mut tx = store.begin().await.unwrap();
    assert!(
        !tx.use_totp_step(&user, 100).await.unwrap(),
        "replayed step"
    );
    assert!(!tx.use_totp_step(&user, 99).await.unwrap(), "earlier step");
    assert!(tx.use_totp_step(&user, 101).await.unwrap());
    assert!(
        !tx.use_totp_step(&user, 101).await.unwrap(),
        "replayed step"
    );
    assert!(tx.use_recovery_code(&user, "hash-one", T0).await.unwrap());
    assert!(!tx.use_recovery_code(&user, "hash-one", T0).await.unwrap());
    assert!(!tx.use_recovery_code(&user, "unknown", T0).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(
        store.user(&org, &user).await.unwrap().totp_last_step,
        Some(101)
    );

    let mut tx = store.begin().await.unwrap();
    tx.clear_totp(&user).await.unwrap();
    assert!(
        !tx.use_recovery_code(&user, "hash-two", T0).await.unwrap(),
        "codes go with the enrolment"
    );
    tx.commit().await.unwrap();
    let read = store.user(&org, &user).await.unwrap();
    assert!(read.totp_secret.is_none());
    assert_eq!(read.totp_last_step, None);

    // Clinic membership: adding twice is one membership; removing ends it.
    let mut tx = store.begin().await.unwrap();
    tx.set_membership(&org, &clinic, &user, true).await.unwrap();
    tx.set_membership(&org, &clinic, &user, true).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.user_clinics(&org, &user).await.unwrap(),
        std::slice::from_ref(&clinic)
    );
    assert_eq!(
        store.clinic_members(&org, &clinic).await.unwrap(),
        std::slice::from_ref(&user)
    );
    let mut tx = store.begin().await.unwrap();
    tx.set_membership(&org, &clinic, &user, false)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(store.user_clinics(&org, &user).await.unwrap().is_empty());
    assert!(
        store
            .clinic_members(&org, &clinic)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn audit_entries_filter_by_organisation_time_actor_and_action_and_page() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org_a = new_org(&store, "Riverside").await;
    let org_b = new_org(&store, "Hillside").await;
    let alice = new_user(&store, &org_a, "alice@example.org").await;
    let bob = new_user(&store, &org_b, "bob@example.org").await;
    let (alice_actor, bob_actor) = (Actor::Staff(alice.clone()), Actor::Staff(bob.clone()));
    let m = Duration::minutes;

    let log = [
        (&alice_actor, "user.create", Some(&org_a), T0),
        (&alice_actor, "user.sign_in", Some(&org_a), T0 + m(1)),
        (&bob_actor, "user.create", Some(&org_b), T0 + m(2)),
        (&Actor::System, "org.create", None, T0 + m(3)),
        (&Actor::System, "clinic.create", Some(&org_a), T0 + m(4)),
        (&bob_actor, "café.open", Some(&org_b), T0 + m(5)),
    ];
    for (i, (actor, action, org, at)) in log.iter().enumerate() {
        let mut tx = store.begin().await.unwrap();
        let object = format!("object:{i}");
        let mut new = entry(actor, action, &object, *org);
        new.client_addr = Some("192.0.2.7");
        new.detail = "detail, with a comma";
        let seq = tx.audit(&new, *at).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(seq, i as i64 + 1);
    }

    let seqs = |filter: AuditFilter, limit: i64, offset: i64| {
        let store = store.clone();
        async move {
            store
                .audit_entries(&filter, limit, offset)
                .await
                .unwrap()
                .iter()
                .map(|r| r.seq)
                .collect::<Vec<_>>()
        }
    };
    let all = AuditFilter::default();
    assert_eq!(
        seqs(all.clone(), 100, 0).await,
        [6, 5, 4, 3, 2, 1],
        "newest first"
    );
    assert_eq!(seqs(all.clone(), 2, 1).await, [5, 4]);
    assert_eq!(seqs(all.clone(), 100, 6).await, Vec::<i64>::new());
    let org_filter = AuditFilter {
        org_id: Some(org_a.clone()),
        ..AuditFilter::default()
    };
    assert_eq!(seqs(org_filter.clone(), 100, 0).await, [5, 2, 1]);
    assert_eq!(
        seqs(
            AuditFilter {
                from: Some(T0 + m(1)),
                until: Some(T0 + m(3)),
                ..AuditFilter::default()
            },
            100,
            0
        )
        .await,
        [3, 2],
        "from is inclusive, until exclusive"
    );
    assert_eq!(
        seqs(
            AuditFilter {
                actor_id: Some(alice.to_string()),
                ..AuditFilter::default()
            },
            100,
            0
        )
        .await,
        [2, 1]
    );
    let prefix = |p: &str| AuditFilter {
        action_prefix: Some(p.to_string()),
        ..AuditFilter::default()
    };
    assert_eq!(seqs(prefix("user."), 100, 0).await, [3, 2, 1]);
    assert_eq!(seqs(prefix("user.c"), 100, 0).await, [3, 1]);
    assert_eq!(
        seqs(prefix("café"), 100, 0).await,
        [6],
        "characters, not bytes"
    );
    assert_eq!(
        seqs(prefix("%"), 100, 0).await,
        Vec::<i64>::new(),
        "no wildcards"
    );
    assert_eq!(
        seqs(
            AuditFilter {
                action_prefix: Some("user.".into()),
                ..org_filter
            },
            100,
            0
        )
        .await,
        [2, 1]
    );

    // Every field reads back; the head is the newest entry.
    let first = &store.audit_page(0, 1).await.unwrap()[0];
    assert_eq!(first.seq, 1);
    assert_eq!(first.at, T0);
    assert_eq!(first.actor, alice_actor);
    assert_eq!(first.action, "user.create");
    assert_eq!(first.object, "object:0");
    assert_eq!(first.org_id.as_ref(), Some(&org_a));
    assert_eq!(first.client_addr.as_deref(), Some("192.0.2.7"));
    assert_eq!(first.detail, "detail, with a comma");
    assert_eq!(first.prev_hash, haven_domain::GENESIS_HASH);
    assert_eq!(first.hash, first.computed_hash());
    let system = &store.audit_page(3, 1).await.unwrap()[0];
    assert_eq!(
        (system.seq, &system.actor, system.org_id.as_ref()),
        (4, &Actor::System, None)
    );
    let page: Vec<i64> = store
        .audit_page(2, 2)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(page, [3, 4], "oldest first after the given seq");
    let newest = store.audit_page(5, 10).await.unwrap();
    assert_eq!(
        store.audit_head().await.unwrap(),
        (6, newest[0].hash.clone())
    );
    assert_eq!(crate::common::verify_chain(&store).await, Ok(6));
}

#[tokio::test]
async fn no_read_or_change_reaches_another_organisations_rows() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org_a = new_org(&store, "Riverside").await;
    let org_b = new_org(&store, "Hillside").await;
    let ann = new_user(&store, &org_a, "ann@example.org").await;
    let bob = new_user(&store, &org_b, "bob@example.org").await;
    let clinic_a = new_clinic(&store, &org_a, "Physiotherapy").await;
    let clinic_b = new_clinic(&store, &org_b, "Antenatal").await;

    assert!(matches!(
        store.user(&org_b, &ann).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        store.clinic(&org_b, &clinic_a).await,
        Err(Error::NotFound)
    ));
    let ids = |users: Vec<haven_store::users::User>| -> Vec<UserId> {
        users.into_iter().map(|u| u.id).collect()
    };
    assert_eq!(
        ids(store.users(&org_b).await.unwrap()),
        std::slice::from_ref(&bob)
    );
    let clinics: Vec<ClinicId> = store
        .clinics(&org_b)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(clinics, std::slice::from_ref(&clinic_b));

    // Changes that name another organisation's rows change nothing.
    let mut tx = store.begin().await.unwrap();
    for (org, clinic, user) in [
        (&org_b, &clinic_a, &ann), // both ends elsewhere
        (&org_a, &clinic_b, &ann), // the clinic is elsewhere
        (&org_a, &clinic_a, &bob), // the user is elsewhere
    ] {
        assert!(matches!(
            tx.set_membership(org, clinic, user, true).await,
            Err(Error::NotFound)
        ));
    }
    assert!(matches!(
        tx.set_roles(&org_b, &ann, Roles::from_iter([Role::Admin]))
            .await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        tx.rename_clinic(&org_b, &clinic_a, &ClinicName::parse("Taken over").unwrap())
            .await,
        Err(Error::NotFound)
    ));
    tx.commit().await.unwrap();

    assert_eq!(
        store.user(&org_a, &ann).await.unwrap().roles.to_list(),
        "clinician"
    );
    assert_eq!(
        store.clinic(&org_a, &clinic_a).await.unwrap().name.as_str(),
        "Physiotherapy"
    );
    assert!(store.user_clinics(&org_a, &ann).await.unwrap().is_empty());
    assert!(store.user_clinics(&org_b, &ann).await.unwrap().is_empty());
    assert!(
        store
            .clinic_members(&org_b, &clinic_a)
            .await
            .unwrap()
            .is_empty()
    );

    // A membership within org A is invisible through org B.
    let mut tx = store.begin().await.unwrap();
    tx.set_membership(&org_a, &clinic_a, &ann, true)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.clinic_members(&org_a, &clinic_a).await.unwrap(),
        std::slice::from_ref(&ann)
    );
    assert!(
        store
            .clinic_members(&org_b, &clinic_a)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.user_clinics(&org_b, &ann).await.unwrap().is_empty());
}
