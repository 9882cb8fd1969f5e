//! `haven admin …` on this run's database engine.

use haven_domain::Email;
use haven_domain::time::OffsetDateTime;
use haven_server::web::token_hash;
use haven_store::auth::{SessionStage, TokenPurpose};

use crate::support::{GOOD_PASSPHRASE, Setup, run};

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

fn add_args<'a>(org: &'a str, address: &'a str, role: &'a str) -> Vec<&'a str> {
    vec![
        "admin",
        "user",
        "add",
        "--org",
        org,
        "--email",
        address,
        "--name",
        "Ann Example",
        "--role",
        role,
        "--password-stdin",
    ]
}

#[tokio::test]
async fn an_organisation_is_created_once_per_name() {
    let setup = Setup::new().await;
    let out = setup.run(&["admin", "org", "create", "--name", "Riverside"]);
    out.expect_code(0);
    assert!(out.stdout.starts_with("created organisation "), "{out:#?}");
    let store = setup.store().await;
    let org = store
        .org_by_name(&haven_domain::OrgName::parse("Riverside").unwrap())
        .await
        .unwrap()
        .expect("the organisation exists");
    assert!(
        out.stdout.contains(org.id.as_str()),
        "the printed id is the real one"
    );

    setup
        .run(&["admin", "org", "create", "--name", "Riverside"])
        .expect_refusal(1, &["organisation name", "already in use"]);
    assert_eq!(store.org_count().await.unwrap(), 1);
}

#[tokio::test]
async fn a_user_is_added_with_a_good_passphrase_and_must_change_it() {
    let setup = Setup::new().await;
    setup.create_org("Riverside");
    let out = setup.run_with_input(
        &add_args("Riverside", "a@example.org", "clinician,receptionist"),
        GOOD_PASSPHRASE.as_bytes(),
    );
    out.expect_code(0);
    assert!(
        out.stderr.contains("must choose a new password"),
        "{out:#?}"
    );

    let store = setup.store().await;
    let user = store
        .user_by_email(&email("a@example.org"))
        .await
        .unwrap()
        .expect("the user exists");
    assert_eq!(user.name.as_str(), "Ann Example");
    assert_eq!(user.roles.to_list(), "clinician,receptionist");
    assert!(user.must_change_password);
    assert!(!user.disabled);
    let hash = user.password_hash.expect("a password was set");
    assert!(
        hash.verify("copper lantern orchard wisdom"),
        "the line ending is not part of it"
    );
    // Standard output is the id alone, for scripts (`id=$(haven admin user add …)`).
    assert_eq!(
        out.stdout,
        format!("{}\n", user.id.as_str()),
        "the printed id is the user's"
    );

    // The same address again is refused.
    setup
        .add_user("Riverside", "A@example.org", "Ann Again", "admin")
        .expect_refusal(1, &["email address", "already in use"]);
}

#[tokio::test]
async fn weak_passwords_are_refused_with_the_reason_and_advice() {
    let setup = Setup::new().await;
    setup.create_org("Riverside");
    for (password, reason) in [
        ("password1234\n", "too easy to guess"),
        ("short words\n", "at least 12 characters"),
        ("ann lantern orchard wisdom\n", "must not contain your name"),
        ("", "at least 12 characters"),
    ] {
        setup
            .run_with_input(
                &add_args("Riverside", "a@example.org", "clinician"),
                password.as_bytes(),
            )
            .expect_refusal(1, &["password", reason, "three or more random words"]);
    }
    let store = setup.store().await;
    assert!(
        store
            .user_by_email(&email("a@example.org"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_unknown_organisation_or_role_is_refused() {
    let setup = Setup::new().await;
    setup.create_org("Riverside");
    setup
        .run_with_input(
            &add_args("Hillside", "a@example.org", "clinician"),
            GOOD_PASSPHRASE.as_bytes(),
        )
        .expect_refusal(1, &["--org", "Hillside"]);
    setup
        .run_with_input(
            &add_args("Riverside", "a@example.org", "doctor"),
            GOOD_PASSPHRASE.as_bytes(),
        )
        .expect_refusal(
            2,
            &[
                "--role",
                "doctor",
                "admin, clinician, receptionist, ig_auditor",
            ],
        );
    let store = setup.store().await;
    assert!(
        store
            .user_by_email(&email("a@example.org"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn bad_command_line_input_is_refused_without_a_panic() {
    let setup = Setup::new().await;
    setup.create_org("Riverside");
    // A malformed address is a usage error, named by its option.
    setup
        .run_with_input(
            &add_args("Riverside", "not-an-email", "clinician"),
            GOOD_PASSPHRASE.as_bytes(),
        )
        .expect_refusal(2, &["--email", "@"]);
    let mut args = add_args("Riverside", "a@example.org", "clinician");
    args[8] = " ";
    setup
        .run_with_input(&args, GOOD_PASSPHRASE.as_bytes())
        .expect_refusal(2, &["--name"]);
    setup
        .run(&["admin", "user", "reset-password", "--email", "not-an-email"])
        .expect_refusal(2, &["--email"]);
    setup
        .run(&["admin", "user", "disable", "--email", "not-an-email"])
        .expect_refusal(2, &["--email"]);
    // Standard input that is not text, or empty, sets no password.
    let out = setup.run_with_input(
        &add_args("Riverside", "a@example.org", "clinician"),
        b"\xff\xfe copper lantern\n",
    );
    assert!(matches!(out.code, Some(1 | 2)), "{out:#?}");
    out.expect_refusal(out.code.unwrap(), &["--password-stdin", "standard input"]);
    setup
        .run_with_input(&add_args("Riverside", "a@example.org", "clinician"), b"")
        .expect_refusal(1, &["password"]);
    // Missing --password-stdin: clap names it.
    let mut args = add_args("Riverside", "a@example.org", "clinician");
    args.pop();
    setup
        .run_with_input(&args, GOOD_PASSPHRASE.as_bytes())
        .expect_refusal(2, &["--password-stdin"]);
    let store = setup.store().await;
    assert!(
        store
            .user_by_email(&email("a@example.org"))
            .await
            .unwrap()
            .is_none()
    );
}

/// The token at the end of a printed reset link.
fn token_of(link: &str) -> String {
    link.trim().rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn reset_password_prints_a_working_single_use_link() {
    let setup = Setup::new().await;
    setup.create_org("Riverside");
    setup
        .add_user("Riverside", "a@example.org", "Ann Example", "clinician")
        .expect_code(0);
    let store = setup.store().await;
    let now = OffsetDateTime::now_utc();
    let live = |link: String| {
        let store = store.clone();
        async move {
            store
                .token_is_live(
                    &token_hash(&token_of(&link)),
                    TokenPurpose::PasswordReset,
                    now,
                )
                .await
                .unwrap()
        }
    };

    let out = setup.run(&[
        "admin",
        "user",
        "reset-password",
        "--email",
        "a@example.org",
    ]);
    out.expect_code(0);
    let first = out.stdout.trim().to_string();
    assert!(first.starts_with("http://127.0.0.1:8080/reset/"), "{first}");
    assert!(out.stderr.contains("works once"), "{out:#?}");
    assert!(live(first.clone()).await);

    // HAVEN_PUBLIC_URL sets the start of the link; a new link withdraws the old one.
    let mut cmd = setup.cmd(&[
        "admin",
        "user",
        "reset-password",
        "--email",
        "A@Example.org",
    ]);
    cmd.env("HAVEN_PUBLIC_URL", "https://video.example.nhs.uk/");
    let out = run(cmd, b"");
    out.expect_code(0);
    let second = out.stdout.trim().to_string();
    assert!(
        second.starts_with("https://video.example.nhs.uk/reset/"),
        "{second}"
    );
    assert!(live(second.clone()).await);
    assert!(!live(first).await, "the earlier link no longer works");

    // So does the configuration file's public_url, below the environment.
    let config = setup.dir.path().join("haven.toml");
    std::fs::write(&config, "public_url = \"https://file.example.nhs.uk\"\n").unwrap();
    let mut cmd = setup.cmd(&["--config", config.to_str().unwrap()]);
    cmd.args([
        "admin",
        "user",
        "reset-password",
        "--email",
        "a@example.org",
    ]);
    let out = run(cmd, b"");
    assert!(
        out.expect_code(0)
            .stdout
            .starts_with("https://file.example.nhs.uk/reset/"),
        "{out:#?}"
    );

    setup
        .run(&[
            "admin",
            "user",
            "reset-password",
            "--email",
            "nobody@example.org",
        ])
        .expect_refusal(1, &["--email", "no account"]);
}

#[tokio::test]
async fn disable_blocks_the_account_and_ends_its_sessions() {
    let setup = Setup::new().await;
    setup.create_org("Riverside");
    setup
        .add_user("Riverside", "a@example.org", "Ann Example", "clinician")
        .expect_code(0);
    let store = setup.store().await;
    let user = store
        .user_by_email(&email("a@example.org"))
        .await
        .unwrap()
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.create_session(
        "signed-in",
        &user.id,
        &user.org_id,
        SessionStage::Complete,
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let out = setup.run(&["admin", "user", "disable", "--email", "a@example.org"]);
    out.expect_code(0);
    assert!(out.stdout.contains("disabled"), "{out:#?}");
    let user = store
        .user_by_email(&email("a@example.org"))
        .await
        .unwrap()
        .unwrap();
    assert!(user.disabled);
    assert!(
        store.session("signed-in").await.unwrap().is_none(),
        "their session ended"
    );

    setup
        .run(&["admin", "user", "disable", "--email", "nobody@example.org"])
        .expect_refusal(1, &["no account"]);
}

#[tokio::test]
async fn without_a_database_url_the_data_lives_in_a_private_haven_data_folder() {
    // Always SQLite, whatever this run's engine: the default is the point.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::haven(dir.path());
    cmd.args(["admin", "org", "create", "--name", "Riverside"]);
    run(cmd, b"").expect_code(0);

    let folder = dir.path().join("haven-data");
    assert!(
        folder.join("haven.db").is_file(),
        "./haven-data/haven.db was created"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the folder holds patient data: owner only");

    // And the next command finds the same data there.
    let mut cmd = crate::support::haven(dir.path());
    cmd.args(["admin", "org", "create", "--name", "Riverside"]);
    run(cmd, b"").expect_refusal(1, &["already in use"]);
}
