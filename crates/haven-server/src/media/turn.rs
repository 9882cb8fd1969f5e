//! Time-limited TURN credentials in coturn's shared-secret REST scheme
//! (`use-auth-secret` / `static-auth-secret`, draft-uberti-behave-turn-rest):
//! username = `<expiry as unix time>:<label>`, credential = base64(HMAC-SHA1(secret, username)).
//! coturn recomputes the credential from the username and refuses it after the expiry, so
//! Haven never stores TURN passwords and a leaked one stops working by itself.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The secret shared with coturn (`static-auth-secret`). Never printed.
#[derive(Clone)]
pub struct TurnSecret(String);

impl TurnSecret {
    /// Wraps the configured secret.
    pub fn new(secret: impl Into<String>) -> Self {
        TurnSecret(secret.into())
    }
}

impl fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TurnSecret({redacted})")
    }
}

/// A username and credential for `RTCIceServer`, valid until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnCredentials {
    /// `<expiry>:<label>`.
    pub username: String,
    /// base64(HMAC-SHA1(secret, username)).
    pub credential: String,
    /// Unix time (seconds) after which coturn refuses them.
    pub expires_at: u64,
}

impl TurnCredentials {
    /// Credentials for `label` (a non-personal identifier such as a seat id, shown in
    /// coturn's logs), valid for `ttl` from `now_unix` (seconds; time is a parameter).
    /// A `:` in the label would be read as part of the username's structure by some
    /// TURN servers, so it is replaced by `-`.
    pub fn new(secret: &TurnSecret, label: &str, now_unix: u64, ttl: Duration) -> Self {
        let expires_at = now_unix.saturating_add(ttl.as_secs());
        let username = format!("{expires_at}:{}", label.replace(':', "-"));
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha1>::new_from_slice(secret.0.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(username.as_bytes());
        let credential = STANDARD.encode(mac.finalize().into_bytes());
        TurnCredentials {
            username,
            credential,
            expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_turn_hmac_matches_rfc_2202() {
        // RFC 2202 test case 2 for HMAC-SHA1 (effcdf6a…7c79), in base64.
        let mut mac = Hmac::<Sha1>::new_from_slice(b"Jefe").expect("any key length");
        mac.update(b"what do ya want for nothing?");
        let tag = STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(tag, "7/zfauXrL6LSdBbV8YTfnCWafHk=");
    }

    #[test]
    fn media_turn_credentials_follow_coturns_rest_scheme() {
        // Expected value from `openssl dgst -sha1 -hmac north-wing-secret -binary | base64`
        // over "1700000000:haven-p1": an independent implementation.
        let secret = TurnSecret::new("north-wing-secret");
        let c = TurnCredentials::new(
            &secret,
            "haven-p1",
            1_699_913_600,
            Duration::from_secs(86_400),
        );
        assert_eq!(c.username, "1700000000:haven-p1");
        assert_eq!(c.credential, "rPbFURIVKQAKTwzka5ZbxP3snu4=");
        assert_eq!(c.expires_at, 1_700_000_000);
        assert_eq!(format!("{secret:?}"), "TurnSecret({redacted})");
        let colon = TurnCredentials::new(&secret, "a:b", 0, Duration::ZERO);
        assert_eq!(colon.username, "0:a-b");
    }
}
