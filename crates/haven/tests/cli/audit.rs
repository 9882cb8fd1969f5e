//! `haven audit verify` and `haven audit export`, and what tampering with the stored log
//! looks like to them.

use haven_domain::audit::entry_hash;
use sqlx::{AnyPool, Row};

use crate::support::{Outcome, Setup};

/// Org create, user add, reset link, disable: four entries, as an admin would make them.
fn admin_activity(setup: &Setup) {
    setup.create_org("Riverside");
    setup
        .add_user("Riverside", "a@example.org", "Ann Example", "clinician")
        .expect_code(0);
    setup
        .run(&[
            "admin",
            "user",
            "reset-password",
            "--email",
            "a@example.org",
        ])
        .expect_code(0);
    setup
        .run(&["admin", "user", "disable", "--email", "a@example.org"])
        .expect_code(0);
}

/// Audit entries quickly: one organisation per name, each with its `org.create` entry.
fn orgs(setup: &Setup, n: usize) {
    for i in 0..n {
        setup.create_org(&format!("Organisation {i}"));
    }
}

pub(crate) fn is_postgres(setup: &Setup) -> bool {
    setup.db.url.starts_with("postgres")
}

/// The database opened directly, as someone with access to the files or server would.
pub(crate) async fn raw(setup: &Setup) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPool::connect(&setup.db.url)
        .await
        .expect("open the database directly")
}

async fn count(pool: &AnyPool) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM audit_log")
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0)
}

/// Removes the append-only triggers, as a determined tamperer would first.
pub(crate) async fn drop_triggers(setup: &Setup, pool: &AnyPool) {
    let statements: &[&str] = if is_postgres(setup) {
        &[
            "DROP TRIGGER audit_log_no_update ON audit_log",
            "DROP TRIGGER audit_log_no_truncate ON audit_log",
        ]
    } else {
        &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
        ]
    };
    for sql in statements {
        sqlx::query(*sql)
            .execute(pool)
            .await
            .expect("drop a trigger");
    }
}

pub(crate) fn verify(setup: &Setup) -> Outcome {
    setup.run(&["audit", "verify"])
}

#[track_caller]
pub(crate) fn expect_broken_at(out: &Outcome, seq: i64, kind: &str) {
    out.expect_refusal(1, &["tampered"]);
    let wanted = format!("broken: entry {seq}: {kind}");
    assert!(
        out.stdout.contains(&wanted),
        "expected {wanted:?}: {out:#?}"
    );
}

#[tokio::test]
async fn verify_counts_every_entry_of_an_intact_log() {
    let setup = Setup::new().await;
    // An empty log is intact.
    let out = verify(&setup);
    assert!(
        out.expect_code(0).stdout.starts_with("ok: 0 entries"),
        "{out:#?}"
    );

    admin_activity(&setup);
    let pool = raw(&setup).await;
    let n = count(&pool).await;
    assert_eq!(n, 4, "each admin command leaves one entry");
    let out = verify(&setup);
    out.expect_code(0);
    assert!(
        out.stdout.starts_with(&format!("ok: {n} entries\n")),
        "{out:#?}"
    );
    let head: String = sqlx::query("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(n)
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    assert!(out.stdout.contains(&format!("head: {head}")), "{out:#?}");
}

#[tokio::test]
async fn the_database_itself_refuses_to_change_or_delete_audit_entries() {
    let setup = Setup::new().await;
    orgs(&setup, 2);
    let pool = raw(&setup).await;
    let mut attempts = vec![
        "UPDATE audit_log SET action = 'nothing.happened' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 2",
        "DELETE FROM audit_log",
    ];
    if is_postgres(&setup) {
        attempts.push("TRUNCATE audit_log");
    }
    for sql in attempts {
        let err = sqlx::query(sql)
            .execute(&pool)
            .await
            .expect_err("the triggers refuse it");
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(count(&pool).await, 2);
    assert!(
        verify(&setup)
            .expect_code(0)
            .stdout
            .starts_with("ok: 2 entries")
    );
}

#[tokio::test]
async fn an_edited_entry_is_named() {
    let setup = Setup::new().await;
    admin_activity(&setup);
    let pool = raw(&setup).await;
    drop_triggers(&setup, &pool).await;
    sqlx::query("UPDATE audit_log SET action = 'user.enable' WHERE seq = $1")
        .bind(4_i64)
        .execute(&pool)
        .await
        .unwrap();
    expect_broken_at(&verify(&setup), 4, "content altered");

    // An edit of an earlier entry is reported first.
    sqlx::query("UPDATE audit_log SET detail = 'roles: admin' WHERE seq = $1")
        .bind(2_i64)
        .execute(&pool)
        .await
        .unwrap();
    expect_broken_at(&verify(&setup), 2, "content altered");
}

#[tokio::test]
async fn a_deleted_entry_is_named_by_the_one_after_it() {
    let setup = Setup::new().await;
    orgs(&setup, 4);
    let pool = raw(&setup).await;
    drop_triggers(&setup, &pool).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(2_i64)
        .execute(&pool)
        .await
        .unwrap();
    expect_broken_at(&verify(&setup), 3, "an entry before it is missing");
}

#[tokio::test]
async fn deleting_the_newest_entries_is_noticed() {
    let setup = Setup::new().await;
    orgs(&setup, 4);
    let pool = raw(&setup).await;
    drop_triggers(&setup, &pool).await;
    sqlx::query("DELETE FROM audit_log WHERE seq >= $1")
        .bind(3_i64)
        .execute(&pool)
        .await
        .unwrap();
    expect_broken_at(
        &verify(&setup),
        3,
        "the log does not end where its recorded head says",
    );
}

/// A row forged as well as it can be: it links to the entry before it and its hash is
/// correct for its content.
async fn insert_forged(pool: &AnyPool, seq: i64) {
    let prev: String = sqlx::query("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(seq - 1)
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0);
    let at = haven_domain::time::OffsetDateTime::now_utc();
    let at = haven_domain::audit::truncate_to_micros(at);
    let actor = haven_domain::audit::Actor::System;
    let hash = entry_hash(
        &prev,
        seq,
        at,
        &actor,
        "org.delete",
        "org:forged",
        None,
        None,
        "",
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_kind, actor_id, action, object, org_id, \
         client_addr, detail, prev_hash, hash) \
         VALUES ($1, $2, 'system', NULL, 'org.delete', 'org:forged', NULL, NULL, '', $3, $4)",
    )
    .bind(seq)
    .bind((at.unix_timestamp_nanos() / 1_000) as i64)
    .bind(prev)
    .bind(hash)
    .execute(pool)
    .await
    .expect("insert the forged row");
}

#[tokio::test]
async fn a_forged_entry_appended_after_the_head_is_named() {
    let setup = Setup::new().await;
    orgs(&setup, 4);
    let pool = raw(&setup).await;
    // Appending needs no trigger removed: the log is append-only, but the head says where
    // it ends.
    insert_forged(&pool, 5).await;
    expect_broken_at(
        &verify(&setup),
        5,
        "the log does not end where its recorded head says",
    );
}

#[tokio::test]
async fn a_forged_entry_inserted_in_the_middle_breaks_the_chain_where_it_was_put() {
    let setup = Setup::new().await;
    orgs(&setup, 4);
    let pool = raw(&setup).await;
    drop_triggers(&setup, &pool).await;
    // Make room at seq 3 (newest first, so no two rows ever share a seq).
    for seq in [4_i64, 3] {
        sqlx::query("UPDATE audit_log SET seq = $1 WHERE seq = $2")
            .bind(seq + 1)
            .bind(seq)
            .execute(&pool)
            .await
            .unwrap();
    }
    insert_forged(&pool, 3).await;
    // The forged row itself links up, but the genuine entry it displaced no longer matches
    // its own hash (which covers its position).
    expect_broken_at(&verify(&setup), 4, "content altered");

    // A forger who cannot compute hashes is caught at the forged row itself.
    sqlx::query("UPDATE audit_log SET hash = $1 WHERE seq = $2")
        .bind("ab".repeat(32))
        .bind(3_i64)
        .execute(&pool)
        .await
        .unwrap();
    expect_broken_at(&verify(&setup), 3, "content altered");
}

#[tokio::test]
async fn export_writes_every_entry_as_csv_or_json() {
    let setup = Setup::new().await;
    admin_activity(&setup);
    let n = count(&raw(&setup).await).await as usize;

    let out = setup.run(&["audit", "export", "--format", "csv"]);
    out.expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "seq,time,actor_kind,actor_id,action,object,org_id,client_addr,detail,prev_hash,hash"
    );
    assert_eq!(lines.len(), n + 1, "{}", out.stdout);
    for (i, line) in lines[1..].iter().enumerate() {
        assert!(line.starts_with(&format!("{},", i + 1)), "{line}");
    }
    assert!(lines[1].contains(",system,,org.create,"), "{}", lines[1]);
    // CSV is the default.
    assert_eq!(
        setup.run(&["audit", "export"]).expect_code(0).stdout,
        out.stdout
    );

    let out = setup.run(&["audit", "export", "--format", "json"]);
    out.expect_code(0);
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(&out.stdout).expect("the export is a JSON array");
    assert_eq!(entries.len(), n);
    for (i, entry) in entries.iter().enumerate() {
        for field in ["seq", "time", "actor_kind", "action", "object", "hash"] {
            assert!(
                entry.get(field).is_some(),
                "entry {i} lacks {field}: {entry}"
            );
        }
        assert_eq!(entry["seq"], i + 1);
        assert_eq!(entry["hash"].as_str().map(str::len), Some(64));
    }
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "org.create",
            "user.create",
            "user.password_reset_issued",
            "user.disable"
        ]
    );
    // The export contains no personal data: addresses and names stay in their tables.
    assert!(!out.stdout.contains("a@example.org") && !out.stdout.contains("Ann Example"));

    setup
        .run(&["audit", "export", "--format", "xml"])
        .expect_refusal(2, &["xml", "csv", "json"]);
}
