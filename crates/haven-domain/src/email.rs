//! Email addresses, as used to sign in and to send invitations.
//!
//! The rules are deliberately narrower than RFC 5322: they accept every
//! address people actually use and refuse the exotic forms (quoted local
//! parts, IP-literal domains) that only cause trouble downstream.

use std::fmt;

use crate::Error;

/// SMTP's limit on a forward path (RFC 5321 §4.5.3.1.3), in octets.
const MAX_LEN: usize = 254;
/// SMTP's limit on a local part (RFC 5321 §4.5.3.1.1), in octets.
const MAX_LOCAL_LEN: usize = 64;
/// DNS's limit on one label (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// A syntactically valid, normalised (trimmed, lowercased) email address.
///
/// It has no `Display`: an address is personal data, so writing one out
/// must be an explicit `as_str()` rather than something a `{}` does.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    /// Parses an address typed by a person.
    ///
    /// Lowercasing the whole address means two spellings of one mailbox
    /// cannot become two accounts. Strictly the local part is case
    /// sensitive, but no mainstream provider treats it so.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(Error::InvalidEmail("email address must not be empty"));
        }
        if email.len() > MAX_LEN {
            return Err(Error::InvalidEmail(
                "email address must be at most 254 characters long",
            ));
        }
        let mut parts = email.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::InvalidEmail(
                "email address must contain exactly one '@'",
            ));
        };
        check_local(local)?;
        check_domain(domain)?;
        Ok(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the '@'.
    pub fn local_part(&self) -> &str {
        // parse() guarantees exactly one '@'.
        self.0
            .split_once('@')
            .map_or(&self.0[..], |(local, _)| local)
    }

    /// The part after the '@'.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, domain)| domain)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email({redacted})")
    }
}

fn check_local(local: &str) -> Result<(), Error> {
    if local.is_empty() {
        return Err(Error::InvalidEmail(
            "email address must have something before the '@'",
        ));
    }
    if local.len() > MAX_LOCAL_LEN {
        return Err(Error::InvalidEmail(
            "email address must have at most 64 characters before the '@'",
        ));
    }
    if local.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::InvalidEmail(
            "email address must not contain spaces or control characters",
        ));
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), Error> {
    if !domain.contains('.') {
        return Err(Error::InvalidEmail(
            "email address must have a domain with a dot after the '@', like example.org",
        ));
    }
    let mut labels = domain.split('.').peekable();
    while let Some(label) = labels.next() {
        if label.is_empty() {
            return Err(Error::InvalidEmail(
                "email address domain must not have empty parts between dots",
            ));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(Error::InvalidEmail(
                "email address domain parts must be at most 63 characters long",
            ));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(Error::InvalidEmail(
                "email address domain may contain only letters, digits, hyphens and dots",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(Error::InvalidEmail(
                "email address domain parts must not start or end with a hyphen",
            ));
        }
        let is_last = labels.peek().is_none();
        if is_last && label.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidEmail(
                "email address must end in a name like .uk or .org, not a number",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        let cases = [
            ("jo@example.org", "jo@example.org"),
            ("  Jo.Bloggs@NHS.net \n", "jo.bloggs@nhs.net"),
            ("a+tag@mail.example.co.uk", "a+tag@mail.example.co.uk"),
            ("x@a-b.c0m", "x@a-b.c0m"),
            ("o'neil@example.org", "o'neil@example.org"),
            ("zoë@example.org", "zoë@example.org"),
        ];
        for (input, expected) in cases {
            let email = Email::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(email.as_str(), expected);
        }
    }

    #[test]
    fn rejects_with_a_specific_reason() {
        let long_local = format!("{}@example.org", "a".repeat(65));
        let long_total = format!("a@{}.org", "b.".repeat(126));
        let long_label = format!("a@{}.org", "b".repeat(64));
        let cases: &[(&str, &str)] = &[
            ("", "must not be empty"),
            ("   ", "must not be empty"),
            ("jo.example.org", "exactly one '@'"),
            ("jo@@example.org", "exactly one '@'"),
            ("jo@bar@example.org", "exactly one '@'"),
            ("@example.org", "something before the '@'"),
            (&long_local, "at most 64 characters"),
            (&long_total, "at most 254 characters"),
            ("j o@example.org", "spaces"),
            ("jo\u{7}@example.org", "control characters"),
            ("jo@localhost", "with a dot"),
            ("jo@example..org", "empty parts"),
            ("jo@.example.org", "empty parts"),
            ("jo@example.org.", "empty parts"),
            ("jo@exa_mple.org", "only letters"),
            ("jo@exämple.org", "only letters"),
            ("jo@-example.org", "start or end with a hyphen"),
            ("jo@example-.org", "start or end with a hyphen"),
            ("jo@192.168.0.1", "not a number"),
            (&long_label, "at most 63 characters"),
        ];
        for &(input, reason) in cases {
            match Email::parse(input) {
                Err(Error::InvalidEmail(msg)) => {
                    assert!(msg.contains(reason), "{input:?}: {msg}");
                    assert!(msg.starts_with("email address"), "{msg}");
                }
                other => panic!("{input:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn debug_is_redacted_and_parts_are_available() {
        let email = Email::parse("secret.person@example.org").expect("valid address");
        let debug = format!("{email:?}");
        assert_eq!(debug, "Email({redacted})");
        assert!(!debug.contains("secret"));
        assert_eq!(email.local_part(), "secret.person");
        assert_eq!(email.domain(), "example.org");
    }
}
