//! "A process killed mid-write loses nothing that was committed and leaves nothing
//! half-written." The writer is this test binary itself, re-run as a child process so it can
//! be killed with SIGKILL at an arbitrary moment.

use std::process::Stdio;
use std::time::Duration;

use haven_domain::audit::Actor;
use haven_domain::{OrgId, Role};
use haven_store::Engine;
use haven_store::audit::AuditFilter;
use haven_store::testing::fresh_database;
use sqlx::{Connection, Row};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::common::{T0, connect, create_user_in, entry, new_org, verify_chain};

/// Set (to the database URL) only in the child process.
const CHILD_URL: &str = "HAVEN_CRASH_CHILD_URL";
/// The organisation the child adds users to.
const CHILD_ORG: &str = "HAVEN_CRASH_CHILD_ORG";
/// Commits the parent waits for before it kills the child.
const COMMITS_BEFORE_KILL: usize = 50;
/// A bound on the child's work, should the parent somehow fail to kill it.
const CHILD_MAX_COMMITS: usize = 20_000;

fn email(i: usize) -> String {
    format!("crash{i}@example.org")
}

/// The child's body. The test harness also runs this as an ordinary test: without
/// `HAVEN_CRASH_CHILD_URL` in the environment it does nothing and passes. Only
/// `killed_writer_loses_nothing_committed_and_leaves_nothing_half_written` sets it.
#[tokio::test]
async fn crash_child() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let org = OrgId::parse(&std::env::var(CHILD_ORG).expect("the parent names the organisation"))
        .expect("the parent passes a valid id");
    let store = connect(&url).await;
    for i in 0..CHILD_MAX_COMMITS {
        // A user and the audit entry recording it, in one transaction: after a crash both
        // exist or neither does.
        let mut tx = store.begin().await.expect("begin");
        let user = create_user_in(&mut tx, &org, &email(i), &[Role::Clinician]).await;
        let object = format!("user:{user}");
        tx.audit(
            &entry(&Actor::System, "user.create", &object, Some(&org)),
            T0,
        )
        .await
        .expect("audit");
        tx.commit().await.expect("commit");
        // Only after commit returns: every index printed must survive the kill.
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "committed {i}").expect("the parent reads our output");
        out.flush().expect("the parent reads our output");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_writer_loses_nothing_committed_and_leaves_nothing_half_written() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Crash Test Trust").await;
    store.close().await;

    let mut child = tokio::process::Command::new(std::env::current_exe().expect("our own path"))
        .args([
            "--exact",
            "crash::crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL, &db.url)
        .env(CHILD_ORG, org.as_str())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("re-run this test binary");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));

    // Reads one whole line; a line cut short by the kill is not a report of a commit.
    async fn next_commit(
        reader: &mut BufReader<tokio::process::ChildStdout>,
    ) -> Option<Option<usize>> {
        let mut line = String::new();
        let n = reader
            .read_line(&mut line)
            .await
            .expect("read the child's output");
        if n == 0 {
            return None;
        }
        Some(
            line.strip_suffix('\n')
                .and_then(|l| l.strip_prefix("committed "))
                .map(|i| i.parse().expect("the child prints an index")),
        )
    }

    let mut committed: Vec<usize> = Vec::new();
    tokio::time::timeout(Duration::from_secs(120), async {
        while committed.len() < COMMITS_BEFORE_KILL {
            match next_commit(&mut stdout).await {
                Some(Some(i)) => committed.push(i),
                Some(None) => {}
                None => panic!("the child stopped after {} commits", committed.len()),
            }
        }
    })
    .await
    .expect("the child commits 50 times within two minutes");

    // SIGKILL: no destructor, no rollback, no checkpoint runs in the child.
    child.kill().await.expect("kill the child");
    // Lines the child wrote before it died also report commits.
    while let Some(line) = next_commit(&mut stdout).await {
        committed.extend(line);
    }
    assert!(committed.len() >= COMMITS_BEFORE_KILL);
    eprintln!(
        "the child reported {} commits before it was killed",
        committed.len()
    );

    let store = connect(&db.url).await;

    // Nothing committed was lost.
    for &i in &committed {
        assert!(
            store
                .user_by_email(&haven_domain::Email::parse(&email(i)).expect("valid"))
                .await
                .expect("look up")
                .is_some(),
            "user {i} was reported committed but is missing"
        );
    }
    // The child commits in order, so what survives is 0..n with no gap; at most the one
    // transaction after the last printed index can have committed unreported.
    let users = store.users(&org).await.expect("list users");
    let last = *committed.iter().max().expect("at least 50");
    assert!(
        users.len() == last + 1 || users.len() == last + 2,
        "{} users survived, {} were reported",
        users.len(),
        last + 1
    );
    for i in 0..users.len() {
        let found = store
            .user_by_email(&haven_domain::Email::parse(&email(i)).expect("valid"))
            .await
            .expect("look up");
        assert!(
            found.is_some(),
            "user {i} is missing: a gap in committed work"
        );
    }

    // Nothing half-written: every user has exactly its audit entry, and no entry lacks its
    // user.
    let filter = AuditFilter {
        org_id: Some(org.clone()),
        ..AuditFilter::default()
    };
    let entries = store
        .audit_entries(&filter, 100_000, 0)
        .await
        .expect("list entries");
    let mut objects: Vec<String> = entries.iter().map(|e| e.object.clone()).collect();
    let mut expected: Vec<String> = users.iter().map(|u| format!("user:{}", u.id)).collect();
    objects.sort();
    expected.sort();
    assert_eq!(objects, expected, "users and their audit entries differ");

    // The chain is whole and ends at the recorded head.
    assert_eq!(verify_chain(&store).await, Ok(users.len() as u64));

    if store.engine() == Engine::Sqlite {
        let mut conn = sqlx::SqliteConnection::connect(&db.url)
            .await
            .expect("open the file directly");
        let check: String = sqlx::query("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .expect("integrity check")
            .get(0);
        assert_eq!(check, "ok");
        let mode: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&mut conn)
            .await
            .expect("journal mode")
            .get(0);
        assert_eq!(mode, "wal");
        conn.close().await.expect("close");
    }
    store.close().await;
}
