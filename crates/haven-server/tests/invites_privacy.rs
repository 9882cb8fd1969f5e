//! Invitation tokens are secrets: they never reach a log, and the database keeps only
//! their hashes. The console channel prints working links (to standard output, never the
//! log) for local use.

mod invites_support;

use haven_domain::consultation::Contact;
use haven_server::invites::transport::{ConsoleOut, Transport};
use haven_server::invites::worker::{StepReport, Worker};
use haven_server::invites::{self, link_expiry, mint_link};
use haven_store::outbox::{Channel, MessageStatus};
use invites_support::logs::Capture;
use invites_support::notify::{self, Reply, StandIn};
use invites_support::*;
use sqlx::{Connection, Row};

// Current-thread runtime: the server's tasks log to this thread's capture.
#[tokio::test(flavor = "current_thread")]
async fn invites_tokens_never_reach_logs_and_are_stored_only_as_hashes() {
    let (capture, _guard) = Capture::start();
    let notify = StandIn::start().await;
    notify.then(Reply::Error(500, "Exception"));
    let h = start(|c| notify::use_notify(c, &notify.base_url, None)).await;
    let b = h.book(Contact::Sms).await;

    // Links by every route: Notify (a failed try, then sent), a resend, and the booking
    // API's own link.
    h.enqueue(&b.org, &b.patient).await;
    h.enqueue(&b.org, &b.carer).await;
    let worker = h.worker();
    worker.step(h.now()).await.unwrap();
    h.advance(haven_server::invites::worker::backoff(1));
    worker.step(h.now()).await.unwrap();
    invites::ops::resend(&h.state, &h.system(), &b.org, &b.patient)
        .await
        .unwrap();
    worker.step(h.now()).await.unwrap();
    let policy = h.store.org(&b.org).await.unwrap().policy;
    let mut tx = h.store.begin().await.unwrap();
    let expires = link_expiry(&policy, STARTS_AT, h.now());
    let minted = mint_link(&mut tx, &h.base, &b.org, &b.carer, expires, h.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(!format!("{minted:?}").contains(minted.token()));

    let mut links: Vec<String> = notify
        .requests()
        .iter()
        .map(|r| {
            r.body["personalisation"]["link"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    links.push(minted.as_str().to_string());
    assert_eq!(
        links.len(),
        5,
        "four requests to Notify (one failed) and the booking's link"
    );
    let tokens: Vec<String> = links.iter().map(|l| token_of(l).to_string()).collect();

    // Logs: no token, no link, nothing personal, though every step was logged.
    let mut secrets = tokens.clone();
    secrets.extend(
        [
            PATIENT_NAME,
            PATIENT_FIRST,
            "Okonkwo",
            PATIENT_E164,
            "7700900321",
            PATIENT_EMAIL,
            CARER_NAME,
            "Peregrine",
            CARER_EMAIL,
        ]
        .map(String::from),
    );
    capture.assert_free_of(&secrets);
    let log = capture.text();
    for expected in ["invitation sent", "invitation to be tried again"] {
        assert!(log.contains(expected), "the worker logs {expected:?}");
    }

    // Storage: each token's hash is there, every link works, and no row holds a token.
    let mut db = sqlx::AnyConnection::connect(&h.db_url).await.unwrap();
    let rows = sqlx::query(
        "SELECT token_hash, attendee_id, created_at, expires_at, revoked_at FROM invite_tokens",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    // One row per link made, the failed try's included (Notify refused it; it dies unused).
    assert_eq!(rows.len(), links.len());
    let stored: Vec<String> = rows
        .iter()
        .map(|r| {
            let hash: String = r.get(0);
            let attendee: String = r.get(1);
            let (created, expires): (i64, i64) = (r.get(2), r.get(3));
            let revoked: Option<i64> = r.get(4);
            format!("{hash} {attendee} {created} {expires} {revoked:?}")
        })
        .collect();
    for (token, link) in tokens.iter().zip(&links) {
        assert!(
            stored.iter().all(|row| !row.contains(token.as_str())),
            "a token is stored"
        );
        let hash = invites::token_hash(token);
        assert_eq!(hash.len(), 64);
        assert!(
            stored.iter().any(|row| row.starts_with(&hash)),
            "its hash is stored"
        );
        assert!(h.opens(link).await.is_some());
        // The token itself is not a key that opens anything.
        assert!(h.store.invite(token, h.now()).await.unwrap().is_none());
    }
    // Nor does the outbox keep anything of the links.
    let outbox = sqlx::query("SELECT id, reason, provider_ref FROM outbox")
        .fetch_all(&mut db)
        .await
        .unwrap();
    for row in &outbox {
        let text = format!(
            "{} {:?} {:?}",
            row.get::<String, _>(0),
            row.get::<Option<String>, _>(1),
            row.get::<Option<String>, _>(2)
        );
        assert!(tokens.iter().all(|t| !text.contains(t.as_str())), "{text}");
    }
}

#[tokio::test]
async fn invites_console_prints_a_working_link_for_local_use() {
    let h = start(|_| {}).await;
    let b = h.book(Contact::Sms).await;
    let id = h.enqueue(&b.org, &b.patient).await;
    assert_eq!(h.message(&b.org, &id).await.channel, Channel::Console);
    let (out, lines) = ConsoleOut::capture();
    let worker = Worker::with_transport(&h.state, Transport::Console(out));

    let report = worker.step(h.now()).await.unwrap();
    assert_eq!(
        report,
        StepReport {
            sent: 1,
            retried: 0,
            failed: 0
        }
    );
    let printed = lines.lock().unwrap().clone();
    assert_eq!(printed.len(), 1);
    let prefix = format!(
        "Invitation for patient of consultation {}: ",
        b.consultation
    );
    let link = printed[0]
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{}", printed[0]));
    assert_eq!(h.opens(link).await, Some(b.patient.clone()));
    assert!(!printed[0].contains(PATIENT_FIRST));
    assert_eq!(h.message(&b.org, &id).await.status, MessageStatus::Sent);
    assert_eq!(
        invites::ops::status_text(&h.message(&b.org, &id).await),
        "Sent"
    );

    // Once the consultation is cancelled its link is dead, and a resend is refused.
    h.cancel(&b).await;
    assert_eq!(h.opens(link).await, None);
    let refused = invites::ops::resend(&h.state, &h.system(), &b.org, &b.patient).await;
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("cancelled"), "{message}");
    // Another organisation's attendee is not found.
    let other = h.book(Contact::Sms).await;
    let crossed = invites::ops::resend(&h.state, &h.system(), &other.org, &b.patient).await;
    assert!(matches!(crossed, Err(haven_server::Error::NotFound)));
}
