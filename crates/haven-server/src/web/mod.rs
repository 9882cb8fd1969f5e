//! Request plumbing shared by every route: security headers, client addresses, CSRF,
//! cookies, sessions, form parsing and request logging.

mod client;
pub mod cookies;
mod csrf;
mod form;
mod headers;
pub mod session;
mod trace;

pub use client::{ClientInfo, client_info};
pub use csrf::{CsrfToken, csrf};
pub use form::FormData;
pub use headers::security_headers;
pub use session::{Passive, SignedIn, Staff};
pub use trace::log_requests;

/// The largest request body accepted: forms are small, and a large body is an attack.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Random bytes from the operating system's generator, for tokens and secrets.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore;
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// A random URL-safe token with 256 bits of entropy.
pub fn random_token() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// The hex SHA-256 of a secret token: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex_encode(&Sha256::digest(token.as_bytes()))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
