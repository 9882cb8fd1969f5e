//! Unique values refuse a second use with `Error::Conflict`, on both engines.

use haven_domain::{ClinicId, ClinicName, OrgId, OrgName, OrgPolicy, Role};
use haven_store::testing::fresh_database;
use haven_store::{Error, Store};

use crate::common::{T0, connect, create_user_in, id, new_org, new_user};

async fn create_clinic(store: &Store, org: &OrgId, name: &str) -> Result<ClinicId, Error> {
    let clinic = id(ClinicId::from_random);
    let mut tx = store.begin().await?;
    tx.create_clinic(org, &clinic, &ClinicName::parse(name).expect("valid"), T0)
        .await?;
    tx.commit().await?;
    Ok(clinic)
}

#[tokio::test]
async fn an_email_address_belongs_to_one_account_in_the_whole_service() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let riverside = new_org(&store, "Riverside").await;
    let hillside = new_org(&store, "Hillside").await;
    new_user(&store, &riverside, "ann@example.org").await;

    for (org, address) in [
        (&riverside, "ann@example.org"),
        (&hillside, "ANN@Example.org"),
    ] {
        let mut tx = store.begin().await.unwrap();
        let user = haven_domain::UserId::from_random(rand::random());
        let email = haven_domain::Email::parse(address).unwrap();
        let name = haven_domain::PersonName::parse("Another Ann").unwrap();
        let result = tx
            .create_user(
                &haven_store::users::NewUser {
                    id: &user,
                    org_id: org,
                    email: &email,
                    name: &name,
                    roles: [Role::Clinician].into_iter().collect(),
                    password_hash: None,
                    must_change_password: true,
                },
                T0,
            )
            .await;
        match result {
            Err(e @ Error::Conflict(_)) => {
                assert_eq!(e.to_string(), "that email address is already in use")
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    let count: usize =
        store.users(&riverside).await.unwrap().len() + store.users(&hillside).await.unwrap().len();
    assert_eq!(count, 1);

    // A different address is fine.
    let mut tx = store.begin().await.unwrap();
    create_user_in(&mut tx, &hillside, "ann@example.net", &[Role::Admin]).await;
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn an_organisation_name_is_used_once() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    new_org(&store, "Riverside").await;
    let mut tx = store.begin().await.unwrap();
    let result = tx
        .create_org(
            &id(OrgId::from_random),
            &OrgName::parse("Riverside").unwrap(),
            &OrgPolicy::default(),
            T0,
        )
        .await;
    match result {
        Err(e @ Error::Conflict(_)) => {
            assert_eq!(e.to_string(), "that organisation name is already in use")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    drop(tx);
    assert_eq!(store.org_count().await.unwrap(), 1);
}

#[tokio::test]
async fn a_clinic_name_is_used_once_per_organisation() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let riverside = new_org(&store, "Riverside").await;
    let hillside = new_org(&store, "Hillside").await;
    let physio = create_clinic(&store, &riverside, "Physiotherapy")
        .await
        .unwrap();

    assert!(matches!(
        create_clinic(&store, &riverside, "Physiotherapy").await,
        Err(Error::Conflict(_))
    ));
    // Another organisation may have a clinic of the same name.
    create_clinic(&store, &hillside, "Physiotherapy")
        .await
        .expect("names are unique within an organisation only");

    // Renaming onto a taken name is refused too.
    create_clinic(&store, &riverside, "Antenatal")
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.rename_clinic(
            &riverside,
            &physio,
            &ClinicName::parse("Antenatal").unwrap()
        )
        .await,
        Err(Error::Conflict(_))
    ));
    drop(tx);
    assert_eq!(store.clinics(&riverside).await.unwrap().len(), 2);
    assert_eq!(
        store
            .clinic(&riverside, &physio)
            .await
            .unwrap()
            .name
            .as_str(),
        "Physiotherapy"
    );
}
