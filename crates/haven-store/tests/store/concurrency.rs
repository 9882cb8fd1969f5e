//! Concurrent writers: the audit chain never forks (PostgreSQL) and writers queue rather
//! than fail (SQLite).

use std::collections::BTreeSet;

use haven_domain::audit::Actor;
use haven_store::testing::fresh_database;

use crate::common::{T0, connect, entry, verify_chain};

const TASKS: usize = 8;
const PER_TASK: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_make_one_unbroken_chain() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;

    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..PER_TASK {
                let object = format!("task{t}:{i}");
                let mut tx = store.begin().await.expect("begin");
                tx.audit(&entry(&Actor::System, "test.append", &object, None), T0)
                    .await
                    .expect("append");
                tx.commit().await.expect("commit");
            }
        }));
    }
    for task in tasks {
        task.await.expect("no writer failed");
    }

    let total = TASKS * PER_TASK;
    let records = store.audit_page(0, 1_000).await.unwrap();
    let seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=total as i64).collect::<Vec<_>>());
    let objects: BTreeSet<&str> = records.iter().map(|r| r.object.as_str()).collect();
    assert_eq!(objects.len(), total, "every append is there exactly once");
    assert_eq!(store.audit_head().await.unwrap().0, total as i64);
    assert_eq!(verify_chain(&store).await, Ok(total as u64));
}
