//! Time-based one-time passwords (RFC 6238) and recovery codes.
//!
//! Parameters are the ones every authenticator app supports: HMAC-SHA-1,
//! 6 digits, 30-second steps. SHA-1's collision weakness does not affect
//! HMAC, which is all TOTP uses it for.

use std::fmt;

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::Error;

/// Length of one time step, in seconds.
pub const STEP_SECONDS: i64 = 30;
/// Digits in a code.
pub const DIGITS: usize = 6;
/// Steps either side of the current one that are still accepted, to allow
/// for a phone whose clock is a little out.
const SKEW_STEPS: i64 = 1;
/// RFC 4226 §4 requires at least 128 bits of key.
const MIN_SECRET_BYTES: usize = 16;
/// Longer than one SHA-1 block is pointless: HMAC would hash it down.
const MAX_SECRET_BYTES: usize = 64;

/// The shared key between Haven and a person's authenticator app.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    /// A new secret from 20 random bytes (160 bits, RFC 4226's
    /// recommendation) drawn by the caller.
    pub fn from_bytes(bytes: [u8; 20]) -> Self {
        TotpSecret(bytes.to_vec())
    }

    /// Reads a stored secret. Case, surrounding spaces and `=` padding are
    /// forgiven; the key must be 16 to 64 bytes.
    pub fn from_base32(s: &str) -> Result<Self, Error> {
        let cleaned = s.trim().trim_end_matches('=').to_ascii_uppercase();
        let bytes = BASE32_NOPAD
            .decode(cleaned.as_bytes())
            .map_err(|_| Error::InvalidTotpSecret)?;
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(Error::InvalidTotpSecret);
        }
        Ok(TotpSecret(bytes))
    }

    /// RFC 4648 base32 without padding, as stored and as shown to people
    /// who type the key into their app instead of scanning it.
    pub fn to_base32(&self) -> String {
        BASE32_NOPAD.encode(&self.0)
    }

    /// The `otpauth://` URI that authenticator apps read from a QR code
    /// (Google Authenticator's "Key URI Format").
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let issuer = percent_encode(issuer);
        format!(
            "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}\
             &algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            account = percent_encode(account),
            secret = self.to_base32(),
        )
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret({redacted})")
    }
}

/// Encodes everything except RFC 3986's unreserved characters, so that a
/// ':' or '&' in an issuer or account name cannot change the URI's shape.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The RFC 6238 time step containing `unix_seconds`.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// RFC 4226 HOTP truncated to [`DIGITS`] digits, zero-padded.
fn code_for_step(secret: &TotpSecret, step: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(&secret.0).expect("HMAC accepts keys of any length");
    // Steps before 1970 are negative; reinterpreting them as u64 keeps the
    // function total, and such times never occur in practice.
    mac.update(&(step as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let word = u32::from_be_bytes([
        digest[offset],
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]) & 0x7fff_ffff;
    format!("{:06}", word % 1_000_000)
}

/// The code an authenticator app shows at `unix_seconds`.
pub fn code_at(secret: &TotpSecret, unix_seconds: i64) -> String {
    code_for_step(secret, step_at(unix_seconds))
}

/// Checks a code typed by a person at `unix_seconds`.
///
/// Accepts the code for the current step or one step either side, and
/// returns the step it matched; store it and pass it back as
/// `last_used_step` next time, so that a code seen over someone's
/// shoulder cannot be used again. Spaces are ignored ("123 456").
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    unix_seconds: i64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_seconds);
    // Most likely first: a clock in step, then a phone running slow.
    let candidates = [now, now - SKEW_STEPS, now + SKEW_STEPS];
    candidates.into_iter().find(|&step| {
        let fresh = last_used_step.is_none_or(|last| step > last);
        fresh && constant_time_eq(code_for_step(secret, step).as_bytes(), code.as_bytes())
    })
}

/// Compares without stopping at the first difference, so that response
/// times do not reveal how many leading digits were right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Crockford's base32 alphabet in lowercase: no i, l, o or u, so nothing
/// on a printed code can be misread as something else.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A recovery code from 10 random bytes (80 bits), as four groups of four
/// characters, e.g. `k7m2-x9qp-3hfa-w8rd`.
pub fn recovery_code_from_bytes(bytes: [u8; 10]) -> String {
    let mut wide = [0u8; 16];
    wide[6..].copy_from_slice(&bytes);
    let value = u128::from_be_bytes(wide);
    let mut out = String::with_capacity(19);
    for i in 0..16 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let index = (value >> (75 - 5 * i)) & 0x1f;
        out.push(char::from(RECOVERY_ALPHABET[index as usize]));
    }
    out
}

/// The canonical form of a typed recovery code: lowercase, no spaces or
/// hyphens, and the letters that Crockford's alphabet leaves out read as
/// the digits they resemble (o as 0, i and l as 1).
pub fn normalise_recovery_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect()
}

/// What is stored for a recovery code: hex SHA-256 of its canonical form.
/// A fast hash is enough here, unlike for passwords: a code carries 80
/// random bits, which no amount of offline guessing can cover.
pub fn recovery_code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(normalise_recovery_code(code).as_bytes()))
}

#[cfg(test)]
mod tests;
