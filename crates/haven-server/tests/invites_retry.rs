//! The outbox in simulated time: what Notify may recover from (429, 5xx, no connection) is
//! tried again after the backoff and not before; what it refuses (400, 403) fails at once
//! after one try; a message that keeps failing is given up; a cancelled consultation's
//! invitations are never sent.

mod invites_support;

use haven_domain::consultation::Contact;
use haven_domain::time::Duration;
use haven_server::invites::worker::{MAX_ATTEMPTS, StepReport, backoff};
use haven_store::outbox::MessageStatus;
use invites_support::notify::{self, Reply, StandIn};
use invites_support::*;

const RETRIED: StepReport = StepReport {
    sent: 0,
    retried: 1,
    failed: 0,
};
const SENT: StepReport = StepReport {
    sent: 1,
    retried: 0,
    failed: 0,
};
const FAILED: StepReport = StepReport {
    sent: 0,
    retried: 0,
    failed: 1,
};
const NOTHING: StepReport = StepReport {
    sent: 0,
    retried: 0,
    failed: 0,
};

async fn with_notify() -> (StandIn, Harness) {
    let notify = StandIn::start().await;
    let h = start(|c| notify::use_notify(c, &notify.base_url, None)).await;
    (notify, h)
}

#[tokio::test]
async fn invites_retry_a_server_error_is_tried_again_after_the_backoff_not_before() {
    let (notify, h) = with_notify().await;
    notify.then(Reply::Error(500, "Exception"));
    let b = h.book(Contact::Sms).await;
    let id = h.enqueue(&b.org, &b.patient).await;
    let worker = h.worker();

    assert_eq!(worker.step(h.now()).await.unwrap(), RETRIED);
    let m = h.message(&b.org, &id).await;
    assert_eq!((m.status, m.attempts), (MessageStatus::Queued, 1));
    assert_eq!(
        m.reason.as_deref(),
        Some("GOV.UK Notify had an error (500)")
    );
    assert_eq!(m.next_attempt_at, h.now() + backoff(1));

    h.advance(backoff(1) - Duration::seconds(1));
    assert_eq!(
        worker.step(h.now()).await.unwrap(),
        NOTHING,
        "not before the backoff"
    );
    assert_eq!(notify.requests().len(), 1);

    h.advance(Duration::seconds(1));
    assert_eq!(worker.step(h.now()).await.unwrap(), SENT);
    let m = h.message(&b.org, &id).await;
    assert_eq!(
        (m.status, m.attempts, m.reason),
        (MessageStatus::Sent, 2, None)
    );
    let statuses: Vec<u16> = notify.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 201]);
    // Each try carried its own new link; the one delivered works.
    let link = notify.requests()[1].body["personalisation"]["link"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(h.opens(&link).await, Some(b.patient));
}

#[tokio::test]
async fn invites_retry_rate_limits_are_tried_again() {
    let (notify, h) = with_notify().await;
    notify
        .then(Reply::Error(429, "RateLimitError"))
        .then(Reply::Error(429, "TooManyRequestsError"));
    let b = h.book(Contact::Sms).await;
    let id = h.enqueue(&b.org, &b.patient).await;
    let worker = h.worker();

    assert_eq!(worker.step(h.now()).await.unwrap(), RETRIED);
    let reason = h.message(&b.org, &id).await.reason.unwrap();
    assert_eq!(reason, "GOV.UK Notify is limiting requests: RateLimitError");
    h.advance(backoff(1));
    assert_eq!(worker.step(h.now()).await.unwrap(), RETRIED);
    assert_eq!(
        h.message(&b.org, &id).await.next_attempt_at,
        h.now() + backoff(2)
    );
    h.advance(backoff(2));
    assert_eq!(worker.step(h.now()).await.unwrap(), SENT);
    assert_eq!(notify.requests().len(), 3);
}

#[tokio::test]
async fn invites_retry_a_refusal_fails_at_once_after_one_try() {
    for (status, kind) in [
        (400, "ValidationError"),
        (400, "BadRequestError"),
        (403, "AuthError"),
    ] {
        let (notify, h) = with_notify().await;
        notify.then(Reply::Error(status, kind));
        let b = h.book(Contact::Sms).await;
        let id = h.enqueue(&b.org, &b.patient).await;
        let worker = h.worker();

        assert_eq!(worker.step(h.now()).await.unwrap(), FAILED, "{status}");
        let m = h.message(&b.org, &id).await;
        assert_eq!((m.status, m.attempts), (MessageStatus::Failed, 1));
        assert_eq!(
            m.reason.unwrap(),
            format!("Notify refused the message: {kind}")
        );
        h.advance(Duration::hours(12));
        assert_eq!(worker.step(h.now()).await.unwrap(), NOTHING);
        assert_eq!(notify.requests().len(), 1, "never retried");
        let failed = h.audit_of("invite.failed").await;
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].actor.kind(), "system");
        assert!(failed[0].detail.ends_with(kind), "{}", failed[0].detail);
    }
}

#[tokio::test]
async fn invites_retry_a_refused_connection_is_tried_again() {
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let h = start(|c| notify::use_notify(c, &url, None)).await;
    let b = h.book(Contact::Sms).await;
    let id = h.enqueue(&b.org, &b.patient).await;

    assert_eq!(h.worker().step(h.now()).await.unwrap(), RETRIED);
    let m = h.message(&b.org, &id).await;
    assert_eq!(m.status, MessageStatus::Queued);
    assert_eq!(
        m.reason.as_deref(),
        Some("could not reach GOV.UK Notify (connection failed)")
    );
    assert_eq!(m.next_attempt_at, h.now() + backoff(1));
}

#[tokio::test]
async fn invites_retry_gives_up_after_the_last_attempt() {
    let (notify, h) = with_notify().await;
    for _ in 0..MAX_ATTEMPTS {
        notify.then(Reply::Error(503, "Exception"));
    }
    // A link lifetime in hours keeps the link alive for every try.
    let b = h.book(Contact::Sms).await;
    let mut policy = h.store.org(&b.org).await.unwrap().policy;
    policy.invite_lifetime = haven_domain::InviteLifetime::hours(48).unwrap();
    haven_server::ops::orgs::set_policy(&h.state, &h.system(), &b.org, &policy)
        .await
        .unwrap();
    let id = h.enqueue(&b.org, &b.patient).await;
    let worker = h.worker();

    for attempt in 1..MAX_ATTEMPTS {
        assert_eq!(
            worker.step(h.now()).await.unwrap(),
            RETRIED,
            "try {attempt}"
        );
        h.advance(backoff(attempt));
    }
    assert_eq!(worker.step(h.now()).await.unwrap(), FAILED);
    let m = h.message(&b.org, &id).await;
    assert_eq!(
        (m.status, m.attempts),
        (MessageStatus::Failed, MAX_ATTEMPTS)
    );
    assert_eq!(
        m.reason.as_deref(),
        Some("gave up after 8 tries; the last: GOV.UK Notify had an error (503)")
    );
    assert_eq!(notify.requests().len() as i64, MAX_ATTEMPTS);
    h.advance(Duration::days(1));
    assert_eq!(worker.step(h.now()).await.unwrap(), NOTHING);
}

#[tokio::test]
async fn invites_retry_a_cancelled_consultation_sends_nothing() {
    let (notify, h) = with_notify().await;
    notify.then(Reply::Error(500, "Exception"));
    let b = h.book(Contact::Sms).await;
    let retrying = h.enqueue(&b.org, &b.patient).await;
    assert_eq!(h.worker().step(h.now()).await.unwrap(), RETRIED);
    let fresh = h.enqueue(&b.org, &b.carer).await;
    h.cancel(&b).await;
    h.advance(backoff(1));

    let report = h.worker().step(h.now()).await.unwrap();
    assert_eq!(
        report,
        StepReport {
            sent: 0,
            retried: 0,
            failed: 2
        }
    );
    for id in [&retrying, &fresh] {
        let m = h.message(&b.org, id).await;
        assert_eq!(m.status, MessageStatus::Failed);
        assert_eq!(m.reason.as_deref(), Some("consultation cancelled"));
    }
    assert_eq!(
        notify.requests().len(),
        1,
        "only the try before the cancellation"
    );
}

#[tokio::test]
async fn invites_retry_a_link_past_its_day_is_not_sent() {
    let (notify, h) = with_notify().await;
    let b = h.book(Contact::Sms).await;
    let id = h.enqueue(&b.org, &b.patient).await;
    // The worker was down until after the appointment day (UK midnight).
    h.advance(Duration::days(1));
    assert_eq!(h.worker().step(h.now()).await.unwrap(), FAILED);
    let reason = h.message(&b.org, &id).await.reason.unwrap();
    assert_eq!(
        reason,
        "the appointment day is over, so the link would not work"
    );
    assert!(notify.requests().is_empty());
}
