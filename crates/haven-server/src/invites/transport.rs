//! The ways an invitation (or a one-time code) leaves Haven: the console (local use), GOV.UK Notify (text
//! message or email) and SMTP (email). Each takes the same [`Invitation`] and answers with
//! the provider's id or a [`SendError`] saying whether to try again.

use std::sync::{Arc, Mutex};

use haven_domain::consultation::{AttendeeRole, Contact};
use haven_domain::identity_code::OneTimeCode;
use haven_domain::{ConsultationId, MessageId, UkMobile};
use haven_store::consultations::Attendee;
use haven_store::outbox::Channel;

use super::JoinLink;
use super::notify::{NotifyClient, Recipient};
use super::smtp::SmtpSender;
use crate::config::{InviteChannel, NotifySettings};

/// What one invitation says. It holds no personal data but the recipient's own first
/// name; the link is the only secret, and only the provider sees it.
pub struct Invitation<'a> {
    /// Who it is for, in the consultation.
    pub role: AttendeeRole,
    /// The consultation (the console line names it; messages do not).
    pub consultation: &'a ConsultationId,
    /// The recipient's own first name, for the greeting.
    pub first_name: &'a str,
    /// The clinic's name.
    pub clinic: &'a str,
    /// The appointment time as people say it, UK time.
    pub when: &'a str,
    /// Their own link.
    pub link: &'a JoinLink,
    /// Our message id, given to the provider as its reference.
    pub reference: &'a MessageId,
}

/// What a one-time code message says: the code and who it is from, nothing else.
pub struct CodeText<'a> {
    /// The code; only the provider (or standard output for the console) sees it.
    pub code: &'a OneTimeCode,
    /// Who it is for, in the consultation (the console line names it; messages do not).
    pub role: AttendeeRole,
    /// The consultation (the console line names it; messages do not).
    pub consultation: &'a ConsultationId,
    /// The clinic's name.
    pub clinic: &'a str,
    /// The organisation's name.
    pub organisation: &'a str,
    /// Our message id, given to the provider as its reference.
    pub reference: &'a MessageId,
}

/// Why a send did not work, in words safe to show staff, and whether trying again later
/// may help (busy, down, unreachable) or not (refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// Whether a later try may succeed.
    pub retry: bool,
    /// What went wrong; never message text or contact details.
    pub reason: String,
}

impl SendError {
    /// A failure worth trying again.
    pub fn retry(reason: impl Into<String>) -> SendError {
        SendError {
            retry: true,
            reason: reason.into(),
        }
    }

    /// A failure that will not go away by itself.
    pub fn fail(reason: impl Into<String>) -> SendError {
        SendError {
            retry: false,
            reason: reason.into(),
        }
    }
}

/// Where console lines go: standard output, or (in tests) a list to read back.
#[derive(Clone, Default)]
pub struct ConsoleOut {
    captured: Option<Arc<Mutex<Vec<String>>>>,
}

impl ConsoleOut {
    /// Lines kept in memory instead of printed; returns the list they go to.
    pub fn capture() -> (ConsoleOut, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        (
            ConsoleOut {
                captured: Some(lines.clone()),
            },
            lines,
        )
    }

    fn print(&self, line: String) {
        match &self.captured {
            // A std Mutex held for one push; a poisoned list is still a list.
            Some(lines) => lines.lock().unwrap_or_else(|p| p.into_inner()).push(line),
            // Standard output, not the log: the line holds a live link, and logs never do.
            None => println!("{line}"),
        }
    }
}

/// The configured way out.
#[derive(Clone)]
pub enum Transport {
    /// Print the link.
    Console(ConsoleOut),
    /// GOV.UK Notify, with the templates to use.
    Notify {
        /// The client.
        client: NotifyClient,
        /// The SMS template id, if text messages are configured.
        sms_template: Option<String>,
        /// The email template id, if emails are configured.
        email_template: Option<String>,
        /// The one-time code template id, if codes are configured.
        code_template: Option<String>,
    },
    /// An SMTP server.
    Smtp(SmtpSender),
}

impl Transport {
    /// The transport the configuration asks for.
    pub fn from_config(channel: &InviteChannel) -> Result<Transport, String> {
        Ok(match channel {
            InviteChannel::Console => Transport::Console(ConsoleOut::default()),
            InviteChannel::Notify(NotifySettings {
                api_key,
                base_url,
                sms_template,
                email_template,
                code_template,
                ..
            }) => Transport::Notify {
                client: NotifyClient::new(api_key.clone(), base_url),
                sms_template: sms_template.clone(),
                email_template: email_template.clone(),
                code_template: code_template.clone(),
            },
            InviteChannel::Smtp(settings) => Transport::Smtp(SmtpSender::new(settings)?),
        })
    }

    /// The channel word stored with each message this transport sends.
    pub fn channel(&self) -> Channel {
        match self {
            Transport::Console(_) => Channel::Console,
            Transport::Notify { .. } => Channel::Notify,
            Transport::Smtp(_) => Channel::Smtp,
        }
    }

    /// Whether this transport can reach `attendee` the way they asked to be contacted;
    /// checked before a link is minted, so a message that can never go costs no attempt.
    pub fn check(&self, attendee: &Attendee) -> Result<(), SendError> {
        self.recipient(attendee).map(|_| ())
    }

    fn recipient<'a>(&'a self, attendee: &'a Attendee) -> Result<Option<Recipient<'a>>, SendError> {
        let mobile = || {
            attendee
                .mobile
                .as_ref()
                .ok_or_else(|| SendError::fail("no mobile number is recorded for a text message"))
        };
        let email = || {
            attendee
                .email
                .as_ref()
                .ok_or_else(|| SendError::fail("no email address is recorded for an email"))
        };
        match (self, attendee.contact) {
            (Transport::Console(_), _) => Ok(None),
            (Transport::Notify { sms_template, .. }, Contact::Sms) => {
                let template_id = sms_template.as_deref().ok_or_else(|| {
                    SendError::fail("no Notify text message template is configured")
                })?;
                Ok(Some(Recipient::Sms {
                    phone_number: mobile()?.e164(),
                    template_id,
                }))
            }
            (Transport::Notify { email_template, .. }, Contact::Email) => {
                let template_id = email_template
                    .as_deref()
                    .ok_or_else(|| SendError::fail("no Notify email template is configured"))?;
                Ok(Some(Recipient::Email {
                    email_address: email()?.as_str(),
                    template_id,
                }))
            }
            (Transport::Smtp(_), Contact::Email) => {
                email()?;
                Ok(None)
            }
            (Transport::Smtp(_), Contact::Sms) => Err(SendError::fail(
                "a text message needs GOV.UK Notify, and this server sends only email (SMTP)",
            )),
        }
    }

    /// Whether this transport can send a one-time code by text message; checked before a
    /// code is drawn.
    pub fn check_code(&self) -> Result<(), SendError> {
        match self {
            Transport::Console(_) => Ok(()),
            Transport::Notify { code_template, .. } => code_template
                .as_ref()
                .map(|_| ())
                .ok_or_else(|| SendError::fail("no Notify one-time code template is configured")),
            Transport::Smtp(_) => Err(SendError::fail(
                "a one-time code goes by text message, which needs GOV.UK Notify; this server sends only email (SMTP)",
            )),
        }
    }

    /// Sends a one-time code by text message to `mobile`; returns the provider's id, if it
    /// gives one.
    pub async fn send_code(
        &self,
        mobile: &UkMobile,
        text: &CodeText<'_>,
    ) -> Result<Option<String>, SendError> {
        self.check_code()?;
        match self {
            Transport::Console(out) => {
                out.print(format!(
                    "One-time code for {} of consultation {}: {}",
                    text.role,
                    text.consultation,
                    text.code.as_str()
                ));
                Ok(None)
            }
            Transport::Notify {
                client,
                code_template: Some(template_id),
                ..
            } => {
                let to = Recipient::Sms {
                    phone_number: mobile.e164(),
                    template_id,
                };
                client.send_code(to, text).await.map(Some)
            }
            Transport::Notify { .. } | Transport::Smtp(_) => Err(SendError::fail(
                "no way to send a text message is configured",
            )),
        }
    }

    /// Sends one invitation to `attendee`; returns the provider's id, if it gives one.
    pub async fn send(
        &self,
        attendee: &Attendee,
        invitation: &Invitation<'_>,
    ) -> Result<Option<String>, SendError> {
        let recipient = self.recipient(attendee)?;
        match (self, recipient) {
            (Transport::Notify { client, .. }, Some(to)) => {
                client.send(to, invitation).await.map(Some)
            }
            (Transport::Smtp(sender), _) => {
                let email = attendee
                    .email
                    .as_ref()
                    .ok_or_else(|| SendError::fail("no email address is recorded for an email"))?;
                sender.send(email, invitation).await.map(|()| None)
            }
            (Transport::Console(out), _) => {
                out.print(format!(
                    "Invitation for {} of consultation {}: {}",
                    invitation.role,
                    invitation.consultation,
                    invitation.link.as_str()
                ));
                Ok(None)
            }
            (Transport::Notify { .. }, None) => {
                Err(SendError::fail("no recipient for GOV.UK Notify"))
            }
        }
    }
}
