//! `haven admin clinic …`: setting up clinics from scripts.

use haven_domain::OrgName;
use haven_domain::audit::Actor;
use haven_store::audit::AuditFilter;

use crate::support::Setup;

fn create<'a>(org: &'a str, name: &'a str) -> [&'a str; 7] {
    ["admin", "clinic", "create", "--org", org, "--name", name]
}

#[tokio::test]
async fn a_clinic_is_created_audited_and_listed_with_its_id() {
    let setup = Setup::new().await;
    setup.create_org("Riverside");
    let out = setup.run(&create("Riverside", "  Physiotherapy "));
    out.expect_code(0);
    let id = out.stdout.trim().to_string();

    let store = setup.store().await;
    let org = store
        .org_by_name(&OrgName::parse("Riverside").unwrap())
        .await
        .unwrap()
        .expect("the organisation exists");
    let clinics = store.clinics(&org.id).await.unwrap();
    assert_eq!(clinics.len(), 1);
    assert_eq!(clinics[0].id.as_str(), id, "the printed id is the clinic's");
    assert_eq!(clinics[0].name.as_str(), "Physiotherapy");

    let filter = AuditFilter {
        org_id: Some(org.id.clone()),
        action_prefix: Some("clinic.create".into()),
        ..AuditFilter::default()
    };
    let entries = store.audit_entries(&filter, 10, 0).await.unwrap();
    assert_eq!(entries.len(), 1, "the creation is audited once");
    assert_eq!(entries[0].object, format!("clinic:{id}"));
    assert_eq!(entries[0].actor, Actor::System);

    setup.run(&create("Riverside", "Antenatal")).expect_code(0);
    let listed = setup.run(&["admin", "clinic", "list", "--org", "Riverside"]);
    listed.expect_code(0);
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{listed:#?}");
    assert!(lines[0].ends_with("\tAntenatal"), "by name: {listed:#?}");
    assert_eq!(lines[1], format!("{id}\tPhysiotherapy"));
}

#[tokio::test]
async fn bad_clinic_commands_are_refused_and_change_nothing() {
    let setup = Setup::new().await;
    setup.create_org("Riverside");
    setup.create_org("Hillside");
    setup
        .run(&create("Riverside", "Physiotherapy"))
        .expect_code(0);

    setup
        .run(&create("Riverside", "Physiotherapy"))
        .expect_refusal(
            1,
            &[
                "--name",
                "Riverside",
                "already has a clinic",
                "Physiotherapy",
            ],
        );
    setup
        .run(&create("Nowhere", "Physiotherapy"))
        .expect_refusal(1, &["--org", "no organisation", "Nowhere"]);
    setup
        .run(&create("Riverside", "   "))
        .expect_refusal(2, &["--name", "clinic name", "between 1 and 100"]);
    setup
        .run(&create("Riverside", "Physio\u{1b}[31m"))
        .expect_refusal(2, &["--name", "control characters"]);
    setup
        .run(&["admin", "clinic", "list", "--org", "Nowhere"])
        .expect_refusal(1, &["--org", "Nowhere"]);

    // The same name in another organisation is a different clinic.
    setup
        .run(&create("Hillside", "Physiotherapy"))
        .expect_code(0);
    let store = setup.store().await;
    let riverside = store
        .org_by_name(&OrgName::parse("Riverside").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.clinics(&riverside.id).await.unwrap().len(), 1);
    let listed = setup.run(&["admin", "clinic", "list", "--org", "Hillside"]);
    assert_eq!(listed.stdout.lines().count(), 1, "{listed:#?}");
}
