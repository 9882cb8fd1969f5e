//! Invitations by email through a real SMTP server (aiosmtpd, started by the test): the
//! message arrives from the configured sender with a plain subject and a working link;
//! a text message cannot go by SMTP and says so; a server that is down is tried again.

mod invites_support;

use haven_domain::consultation::Contact;
use haven_server::invites::smtp::{SUBJECT, SmtpUrl, parse_from};
use haven_server::invites::worker::StepReport;
use haven_server::{Config, InviteChannel, SmtpSettings};
use haven_store::outbox::{Channel, MessageStatus};
use invites_support::smtp::SmtpSink;
use invites_support::*;

const FROM: &str = "Riverside Health <noreply@riverside.example.org>";

fn use_smtp(config: &mut Config, url: &str) {
    config.invites.channel = InviteChannel::Smtp(SmtpSettings {
        url: SmtpUrl::parse(url).unwrap(),
        from: parse_from(FROM).unwrap(),
    });
}

#[tokio::test]
async fn invites_smtp_delivers_a_working_link_to_a_real_smtp_server() {
    let mut sink = SmtpSink::start().await;
    let h = start(|c| use_smtp(c, &sink.url())).await;
    let b = h.book(Contact::Email).await;
    let id = h.enqueue(&b.org, &b.patient).await;
    assert_eq!(h.message(&b.org, &id).await.channel, Channel::Smtp);

    let report = h.worker().step(h.now()).await.unwrap();
    assert_eq!(
        report,
        StepReport {
            sent: 1,
            retried: 0,
            failed: 0
        }
    );
    let m = h.message(&b.org, &id).await;
    assert_eq!((m.status, m.provider_ref), (MessageStatus::Sent, None));

    let mail = sink.next_message().await;
    assert_eq!(mail["mail_from"], "noreply@riverside.example.org");
    assert_eq!(mail["rcpt_tos"], serde_json::json!([PATIENT_EMAIL]));
    assert_eq!(mail["from"], FROM);
    assert_eq!(mail["to"], PATIENT_EMAIL);
    assert_eq!(mail["subject"], SUBJECT);
    assert_eq!(mail["content_type"], "text/plain");
    let body = mail["body"].as_str().unwrap();
    assert!(
        body.starts_with(&format!("Hello {PATIENT_FIRST},")),
        "{body}"
    );
    assert!(body.contains(CLINIC) && body.contains(WHEN), "{body}");
    assert!(!body.contains("Okonkwo"), "no surname: {body}");
    let link = body
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/join/", h.base)))
        .expect("the body carries the link");
    assert_eq!(h.opens(link).await, Some(b.patient.clone()));
    // The subject shows on lock screens: nothing about the person or the clinic.
    for private in [PATIENT_FIRST, CLINIC] {
        assert!(!SUBJECT.contains(private));
    }

    // A resend is a new message with a new link, and both work.
    let again = haven_server::invites::ops::resend(&h.state, &h.system(), &b.org, &b.patient)
        .await
        .unwrap();
    assert_ne!(again, id);
    h.worker().step(h.now()).await.unwrap();
    let second = sink.next_message().await;
    let second_link = second["body"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.contains("/join/"))
        .unwrap()
        .to_string();
    assert_ne!(second_link, link);
    assert_eq!(h.opens(&second_link).await, Some(b.patient.clone()));
    assert_eq!(h.opens(link).await, Some(b.patient.clone()));
    assert_eq!(h.audit_of("invite.resend").await.len(), 1);

    // Cancelling kills every link sent.
    h.cancel(&b).await;
    assert_eq!(h.opens(link).await, None);
    assert_eq!(h.opens(&second_link).await, None);
}

#[tokio::test]
async fn invites_smtp_cannot_send_a_text_message_and_says_why() {
    let mut sink = SmtpSink::start().await;
    let h = start(|c| use_smtp(c, &sink.url())).await;
    let b = h.book(Contact::Sms).await;
    let sms = h.enqueue(&b.org, &b.patient).await;
    let email = h.enqueue(&b.org, &b.carer).await;

    let report = h.worker().step(h.now()).await.unwrap();
    assert_eq!(
        report,
        StepReport {
            sent: 1,
            retried: 0,
            failed: 1
        }
    );
    let m = h.message(&b.org, &sms).await;
    assert_eq!(
        (m.status, m.attempts),
        (MessageStatus::Failed, 0),
        "no try, no link"
    );
    assert_eq!(
        m.reason.as_deref(),
        Some("a text message needs GOV.UK Notify, and this server sends only email (SMTP)")
    );
    // Only the carer's email went out.
    assert_eq!(h.message(&b.org, &email).await.status, MessageStatus::Sent);
    assert_eq!(
        sink.next_message().await["rcpt_tos"],
        serde_json::json!([CARER_EMAIL])
    );
}

#[tokio::test]
async fn invites_smtp_a_server_that_is_down_is_tried_again() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://{}", closed.local_addr().unwrap());
    drop(closed);
    let h = start(|c| use_smtp(c, &url)).await;
    let b = h.book(Contact::Email).await;
    let id = h.enqueue(&b.org, &b.patient).await;

    let report = h.worker().step(h.now()).await.unwrap();
    assert_eq!(
        report,
        StepReport {
            sent: 0,
            retried: 1,
            failed: 0
        }
    );
    let m = h.message(&b.org, &id).await;
    assert_eq!(m.status, MessageStatus::Queued);
    assert_eq!(m.reason.as_deref(), Some("could not reach the mail server"));
}
