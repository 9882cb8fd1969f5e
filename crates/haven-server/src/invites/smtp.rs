//! Invitation emails through an SMTP server (lettre): plain text, the same words a Notify
//! template would carry. A refusal (5xx) is final; a "try later" (4xx) or a connection
//! that fails is tried again. Reasons name the SMTP code only: a server's text can echo the
//! recipient's address.

use std::fmt;
use std::time::Duration;

use haven_domain::Email;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::transport::{Invitation, SendError};
use crate::config::SmtpSettings;

/// How long one delivery may take: well inside the worker's lease on a message.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The subject line: nothing about the person or the clinic, since it shows on lock
/// screens and in notifications.
pub const SUBJECT: &str = "Your video appointment";

/// An SMTP server URL such as `smtp://mail.internal:25` or
/// `smtps://user:password@smtp.example.org`. `Debug` never prints it: it may hold a
/// password.
#[derive(Clone)]
pub struct SmtpUrl(String);

impl SmtpUrl {
    /// Checks the URL as lettre will read it; the message shows it without its password.
    pub fn parse(text: &str) -> Result<SmtpUrl, String> {
        // An unparsable URL is not repeated at all: its password cannot be found to hide.
        let url = url::Url::parse(text).map_err(|e| format!("is not a URL ({e})"))?;
        let shown = haven_store::redact_url(text);
        if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none() {
            return Err(format!(
                "{shown:?} must be smtp://HOST:PORT or smtps://USER:PASSWORD@HOST"
            ));
        }
        AsyncSmtpTransport::<Tokio1Executor>::from_url(text)
            .map_err(|_| format!("{shown:?} is not an SMTP URL lettre can use"))?;
        Ok(SmtpUrl(text.to_string()))
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpUrl({})", haven_store::redact_url(&self.0))
    }
}

/// Parses the sender, `noreply@example.org` or `Riverside Health <noreply@example.org>`.
pub fn parse_from(text: &str) -> Result<Mailbox, String> {
    text.trim()
        .parse::<Mailbox>()
        .map_err(|_| format!("{text:?} is not an email address such as noreply@example.org"))
}

/// Sends invitation emails through one SMTP server.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpSender {
    /// A sender for the configured server and address.
    pub fn new(settings: &SmtpSettings) -> Result<SmtpSender, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url.0)
            .map_err(|_| "smtp_url: not an SMTP URL lettre can use".to_string())?
            .timeout(Some(TIMEOUT))
            .build();
        Ok(SmtpSender {
            transport,
            from: settings.from.clone(),
        })
    }

    /// Sends one invitation email to `to`.
    pub async fn send(&self, to: &Email, invitation: &Invitation<'_>) -> Result<(), SendError> {
        let address: Address = to
            .as_str()
            .parse()
            .map_err(|_| SendError::fail("the email address cannot be used by the mail library"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, address))
            .subject(SUBJECT)
            .header(ContentType::TEXT_PLAIN)
            .body(body(invitation))
            .map_err(|_| SendError::fail("the email could not be composed"))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let code = e.status().map(|c| c.to_string());
                tracing::warn!(code, permanent = e.is_permanent(), "SMTP delivery failed");
                Err(match code {
                    Some(code) if e.is_permanent() => {
                        SendError::fail(format!("the mail server refused the message ({code})"))
                    }
                    Some(code) => {
                        SendError::retry(format!("the mail server asked to try later ({code})"))
                    }
                    None => SendError::retry("could not reach the mail server"),
                })
            }
        }
    }
}

/// The plain-text body: the greeting, when, and the link.
pub fn body(invitation: &Invitation<'_>) -> String {
    format!(
        "Hello {first_name},\n\n\
         Your video appointment with {clinic} is on {when}.\n\n\
         At the time of your appointment, open this link on a phone, tablet or computer \
         with a camera and microphone:\n\n\
         {link}\n\n\
         The link is for you only: please do not share it. You do not need an account or \
         an app.\n",
        first_name = invitation.first_name,
        clinic = invitation.clinic,
        when = invitation.when,
        link = invitation.link.as_str(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_checked_without_showing_their_password() {
        assert!(SmtpUrl::parse("smtp://127.0.0.1:2525").is_ok());
        let url = SmtpUrl::parse("smtps://haven:hunter2secret@smtp.example.org").unwrap();
        assert!(!format!("{url:?}").contains("hunter2secret"));
        for bad in [
            "http://haven:hunter2secret@mail",
            "smtp//x",
            "smtps://haven:hunter2secret@",
        ] {
            let message = SmtpUrl::parse(bad).unwrap_err();
            assert!(!message.contains("hunter2secret"), "{message}");
        }
    }

    #[test]
    fn senders_may_carry_a_display_name() {
        assert!(parse_from("Riverside Health <noreply@riverside.example.org>").is_ok());
        assert!(parse_from("not an address").is_err());
    }
}
