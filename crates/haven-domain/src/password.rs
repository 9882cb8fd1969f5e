//! The password policy and password hashing.
//!
//! The policy follows NIST SP 800-63B and the NCSC's guidance: a minimum
//! length, a generous maximum, a check against guessable passwords and
//! the person's own details, and no composition rules ("one capital, one
//! symbol"), which push people towards predictable patterns.
//!
//! Hashes are argon2id with OWASP's recommended parameters, stored as PHC
//! strings so that the parameters travel with each hash and can be raised
//! later without breaking existing accounts.

use std::fmt;

use argon2::password_hash::{
    PasswordHash as PhcHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::Error;

/// Fewest characters accepted (NIST 800-63B allows 8; 12 nudges people
/// towards passphrases).
pub const MIN_CHARS: usize = 12;
/// Most characters accepted: enough for any passphrase, and a bound on
/// the work one sign-in attempt can cause.
pub const MAX_CHARS: usize = 128;
/// Lowest zxcvbn score accepted (3: more than 10^8 guesses).
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;
/// Name words and email local parts shorter than this are too common as
/// fragments of ordinary words to be worth refusing.
const MIN_PERSONAL_CHARS: usize = 3;

/// Ends every rejection, so that each one tells people what to do instead.
pub const ADVICE: &str =
    "Try a passphrase of three or more random words, for example 'copper lantern orchard wisdom'.";

/// OWASP's argon2id recommendation: 19 MiB of memory, 2 passes, 1 lane.
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

/// Why a proposed new password was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRejection {
    /// Fewer than `min` characters.
    TooShort {
        /// The minimum length in characters.
        min: usize,
    },
    /// More than `max` characters.
    TooLong {
        /// The maximum length in characters.
        max: usize,
    },
    /// Easy to guess, according to zxcvbn.
    Guessable {
        /// zxcvbn's explanation, if it gave one.
        warning: Option<String>,
        /// zxcvbn's suggestions.
        suggestions: Vec<String>,
    },
    /// Contains the person's name or email address.
    ContainsPersonalInfo,
}

impl fmt::Display for PasswordRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordRejection::TooShort { min } => {
                write!(f, "Your password must be at least {min} characters long.")?;
            }
            PasswordRejection::TooLong { max } => {
                write!(f, "Your password must be at most {max} characters long.")?;
            }
            PasswordRejection::Guessable {
                warning,
                suggestions,
            } => {
                f.write_str("This password would be too easy to guess.")?;
                if let Some(warning) = warning {
                    write!(f, " {warning}")?;
                }
                for suggestion in suggestions {
                    write!(f, " {suggestion}")?;
                }
            }
            PasswordRejection::ContainsPersonalInfo => {
                f.write_str("Your password must not contain your name or email address.")?;
            }
        }
        write!(f, " {ADVICE}")
    }
}

/// A new password that meets the policy. Only ever hashed, never shown:
/// its `Debug` is redacted and it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Checks a proposed new password. `user_inputs` are the person's own
    /// details (full name and email address); the password may not
    /// contain them. The password is used exactly as typed: spaces are
    /// allowed and nothing is trimmed.
    pub fn parse(raw: &str, user_inputs: &[&str]) -> Result<Password, Error> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(PasswordRejection::TooShort { min: MIN_CHARS }.into());
        }
        if chars > MAX_CHARS {
            return Err(PasswordRejection::TooLong { max: MAX_CHARS }.into());
        }
        let lower = raw.to_lowercase();
        if personal_fragments(user_inputs)
            .iter()
            .any(|fragment| lower.contains(fragment.as_str()))
        {
            return Err(PasswordRejection::ContainsPersonalInfo.into());
        }
        let entropy = zxcvbn::zxcvbn(raw, user_inputs);
        if entropy.score() < MIN_SCORE {
            let (warning, suggestions) = match entropy.feedback() {
                Some(feedback) => (
                    feedback.warning().map(|w| w.to_string()),
                    feedback
                        .suggestions()
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                ),
                None => (None, Vec::new()),
            };
            return Err(PasswordRejection::Guessable {
                warning,
                suggestions,
            }
            .into());
        }
        Ok(Password(raw.to_owned()))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password({redacted})")
    }
}

/// The lowercased pieces of the person's details that a password must not
/// contain: a whole email address and its local part, and each word of a
/// name.
fn personal_fragments(user_inputs: &[&str]) -> Vec<String> {
    let long_enough = |s: &str| s.chars().count() >= MIN_PERSONAL_CHARS;
    let mut fragments = Vec::new();
    for input in user_inputs {
        let lower = input.trim().to_lowercase();
        if let Some((local, _)) = lower.split_once('@') {
            if long_enough(local) {
                fragments.push(local.to_owned());
            }
            if long_enough(&lower) {
                fragments.push(lower);
            }
        } else {
            fragments.extend(
                lower
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| long_enough(w))
                    .map(str::to_owned),
            );
        }
    }
    fragments
}

/// A stored argon2id hash in PHC string format
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .expect("the OWASP parameters are within argon2's documented limits");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with argon2id. `salt` must be 16 fresh random bytes.
pub fn hash_password(pw: &Password, salt: [u8; 16]) -> PasswordHash {
    let salt = SaltString::encode_b64(&salt)
        .expect("16 bytes is within the PHC salt length limits of 4 to 64 bytes");
    let hash = hasher()
        .hash_password(pw.0.as_bytes(), &salt)
        .expect("argon2 only fails for passwords over 4 GiB or invalid parameters; ours are fixed and valid");
    PasswordHash(hash.to_string())
}

impl PasswordHash {
    /// Accepts a hash read back from the store, refusing anything that
    /// could never verify, so that corruption shows up when it is loaded
    /// rather than as a mysteriously failing sign-in.
    pub fn from_stored(s: String) -> Result<Self, Error> {
        let phc = PhcHash::new(&s).map_err(|_| Error::InvalidPasswordHash)?;
        let usable = phc.algorithm == Algorithm::Argon2id.ident()
            && phc.salt.is_some()
            && phc.hash.is_some()
            && Params::try_from(&phc).is_ok();
        if !usable {
            return Err(Error::InvalidPasswordHash);
        }
        Ok(PasswordHash(s))
    }

    /// The PHC string, for storing.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `raw` is the password this hash was made from. The
    /// parameters come from the stored string, so hashes made with older
    /// parameters still verify.
    pub fn verify(&self, raw: &str) -> bool {
        // Every constructor guarantees a parseable string; failing closed
        // is still the right answer if that ever changes.
        let Ok(phc) = PhcHash::new(&self.0) else {
            return false;
        };
        hasher().verify_password(raw.as_bytes(), &phc).is_ok()
    }
}

impl fmt::Debug for PasswordHash {
    // A hash can be attacked offline, so it is kept out of logs too.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash({redacted})")
    }
}

/// A real hash with the current parameters, made once with
/// `hash_password` from a password nobody uses (the test
/// `dummy_hash_matches_current_parameters` keeps it in step). Its cost
/// comes from its parameters, so it must be redone if they change.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$aGF2ZW4tZHVtbXktc2FsdA$FR6GMvYO79WUc2Pyzs4Y/RZTIUQ+nXrZDbMiGsa0uos";

/// Spends the same time as verifying a real password, for a sign-in to an
/// account that does not exist, so that response times do not reveal
/// which email addresses have accounts.
pub fn dummy_verify(raw: &str) {
    let hash = PasswordHash(DUMMY_HASH.to_owned());
    std::hint::black_box(hash.verify(raw));
}

#[cfg(test)]
mod tests;
