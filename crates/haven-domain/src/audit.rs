//! The tamper-evident audit log: hashing and verifying the chain.
//!
//! Each entry's hash covers its content and the previous entry's hash, so
//! changing, removing or inserting an entry breaks the chain from that
//! point on. The newest entry's (seq, hash) is also kept separately by the
//! store (the "head"), which catches removal of the newest entries. The
//! hash is not keyed: anyone can check the chain, and an attacker able to
//! rewrite both every later entry and the head is out of scope here.
//!
//! # Canonical encoding (version 1)
//!
//! `hash = lowercase_hex(SHA-256(message))`, where `message` is the
//! concatenation of the items below. Integers are big-endian two's
//! complement; strings are their UTF-8 bytes.
//!
//! ```text
//! field(b)     = u64(len(b)) || b          -- 8-byte length, then the bytes
//! opt(absent)  = 0x00
//! opt(b)       = 0x01 || field(b)          -- so absent differs from ""
//!
//! message = field("haven-audit-v1")        -- domain separation and version
//!        || field(prev_hash)               -- as stored: 64 lowercase hex chars
//!        || field(i64(seq))                -- 8 bytes
//!        || field(i128(t))                 -- 16 bytes; t = Unix time in
//!                                             nanoseconds, rounded down to a
//!                                             whole microsecond (the store
//!                                             keeps microseconds); the
//!                                             offset is irrelevant (UTC)
//!        || field(actor kind)              -- "staff" | "seat" | "system"
//!        || opt(actor id)                  -- user id, seat id, or absent
//!        || field(action)
//!        || field(object)
//!        || opt(org_id)                    -- 32 lowercase hex chars
//!        || opt(client_addr)
//!        || field(detail)
//! ```

use std::fmt;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{ApiKeyId, Error, OrgId, UserId};

/// The `prev_hash` of the very first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Longest seat id accepted.
const MAX_SEAT_ID_CHARS: usize = 128;

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A signed-in member of staff.
    Staff(UserId),
    /// A patient's or guest's seat in a consultation, by its seat id.
    Seat(String),
    /// Haven itself (scheduled jobs, start-up).
    System,
    /// A booking or GP system, by the organisation API key it used.
    ApiKey(ApiKeyId),
}

impl Actor {
    /// The stored kind: "staff", "seat" or "system".
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Staff(_) => "staff",
            Actor::Seat(_) => "seat",
            Actor::System => "system",
            Actor::ApiKey(_) => "api_key",
        }
    }

    /// The stored id, if the kind has one.
    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::Staff(user) => Some(user.as_str()),
            Actor::Seat(seat) => Some(seat),
            Actor::System => None,
            Actor::ApiKey(key) => Some(key.as_str()),
        }
    }

    /// Rebuilds an actor from its stored kind and id.
    pub fn from_parts(kind: &str, id: Option<&str>) -> Result<Actor, Error> {
        match (kind, id) {
            ("staff", Some(id)) => UserId::parse(id)
                .map(Actor::Staff)
                .map_err(|_| Error::InvalidActor),
            ("seat", Some(id))
                if !id.is_empty()
                    && id.chars().count() <= MAX_SEAT_ID_CHARS
                    && !id.chars().any(char::is_control) =>
            {
                Ok(Actor::Seat(id.to_owned()))
            }
            ("system", None) => Ok(Actor::System),
            ("api_key", Some(id)) => ApiKeyId::parse(id)
                .map(Actor::ApiKey)
                .map_err(|_| Error::InvalidActor),
            _ => Err(Error::InvalidActor),
        }
    }
}

/// One entry of the audit log, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the log: 1, 2, 3… with no gaps.
    pub seq: i64,
    /// When it happened.
    pub at: OffsetDateTime,
    /// Who did it.
    pub actor: Actor,
    /// What was done, e.g. "user.sign_in".
    pub action: String,
    /// What it was done to, e.g. a user or clinic id.
    pub object: String,
    /// The organisation concerned, if any.
    pub org_id: Option<OrgId>,
    /// The client's network address, if the action came from a request.
    pub client_addr: Option<String>,
    /// Further detail, free text.
    pub detail: String,
    /// The previous entry's `hash` ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// [`entry_hash`] of this entry.
    pub hash: String,
}

impl AuditRecord {
    /// What `hash` should be, given the rest of the record.
    pub fn computed_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            self.seq,
            self.at,
            &self.actor,
            &self.action,
            &self.object,
            self.org_id.as_ref(),
            self.client_addr.as_deref(),
            &self.detail,
        )
    }
}

/// The time as it will read back from the store (whole microseconds, UTC),
/// for building a record whose hash will still match after a round trip.
pub fn truncate_to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    let nanos = at.nanosecond();
    // A value below one second's worth of nanoseconds always fits.
    at.replace_nanosecond(nanos - nanos % 1_000)
        .expect("rounding nanoseconds down keeps them below 1_000_000_000")
}

struct Encoder(Sha256);

impl Encoder {
    fn field(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
    }

    fn opt(&mut self, bytes: Option<&[u8]>) {
        match bytes {
            None => self.0.update([0x00]),
            Some(bytes) => {
                self.0.update([0x01]);
                self.field(bytes);
            }
        }
    }
}

/// The hash of one entry; see the module documentation for the encoding.
// The arguments mirror the stored columns one for one, which is clearer
// for an auditor than bundling them into a struct.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: OffsetDateTime,
    actor: &Actor,
    action: &str,
    object: &str,
    org_id: Option<&OrgId>,
    client_addr: Option<&str>,
    detail: &str,
) -> String {
    let micros_as_nanos = at.unix_timestamp_nanos().div_euclid(1_000) * 1_000;
    let mut e = Encoder(Sha256::new());
    e.field(b"haven-audit-v1");
    e.field(prev_hash.as_bytes());
    e.field(&seq.to_be_bytes());
    e.field(&micros_as_nanos.to_be_bytes());
    e.field(actor.kind().as_bytes());
    e.opt(actor.id().map(str::as_bytes));
    e.field(action.as_bytes());
    e.field(object.as_bytes());
    e.opt(org_id.map(|o| o.as_str().as_bytes()));
    e.opt(client_addr.map(str::as_bytes));
    e.field(detail.as_bytes());
    hex::encode(e.0.finalize())
}

/// What kind of damage was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// The entry's hash does not match its content: it was edited.
    Altered,
    /// The sequence number jumps: entries before this one were deleted.
    Missing,
    /// The entry does not link to the one before it, or its sequence
    /// number goes backwards: an entry was inserted, replaced or reordered.
    Inserted,
    /// The last entry is not the one the separately kept head records:
    /// newest entries were deleted or added.
    HeadMismatch,
}

impl fmt::Display for BreakKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BreakKind::Altered => "content altered (hash does not match)",
            BreakKind::Missing => "an entry before it is missing",
            BreakKind::Inserted => {
                "does not follow on from the entry before it (an entry was inserted, replaced or reordered)"
            }
            BreakKind::HeadMismatch => {
                "the log does not end where its recorded head says (newest entries were deleted or added)"
            }
        })
    }
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {seq}: {kind}")]
pub struct ChainBreak {
    /// The first entry at which the damage shows.
    pub seq: i64,
    /// What was found.
    pub kind: BreakKind,
}

/// Checks a log one entry at a time, in `seq` order, without holding it
/// all in memory.
///
/// After a break it carries on from the damaged entry as stored, so one
/// tampering is reported once and later, separate damage is still found;
/// [`ChainVerifier::finish`] reports the first break.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    start_seq: i64,
    tip_seq: i64,
    tip_hash: String,
    tip_alt_hash: Option<String>,
    checked: u64,
    first_break: Option<ChainBreak>,
}

impl ChainVerifier {
    /// Starts before the entry numbered `start_seq`, whose `prev_hash`
    /// should be `start_prev_hash`: ([`GENESIS_HASH`], 1) for a whole log,
    /// or a trusted checkpoint's (hash, seq + 1) for a partial check.
    pub fn new(start_prev_hash: String, start_seq: i64) -> Self {
        ChainVerifier {
            start_seq,
            tip_seq: start_seq.saturating_sub(1),
            tip_hash: start_prev_hash,
            tip_alt_hash: None,
            checked: 0,
            first_break: None,
        }
    }

    /// Checks the next entry.
    pub fn push(&mut self, rec: &AuditRecord) -> Result<(), ChainBreak> {
        let computed = rec.computed_hash();
        let result = self
            .check(rec, &computed)
            .map_err(|kind| ChainBreak { seq: rec.seq, kind });
        self.checked += 1;
        self.tip_seq = rec.seq;
        self.tip_hash.clone_from(&rec.hash);
        // After an edit, either the stored or the recomputed hash may be
        // the one the next entry links to, depending on which was
        // tampered with; accepting both reports one edit once.
        self.tip_alt_hash = (computed != rec.hash).then_some(computed);
        if let Err(err) = &result {
            self.first_break.get_or_insert_with(|| err.clone());
        }
        result
    }

    fn check(&self, rec: &AuditRecord, computed: &str) -> Result<(), BreakKind> {
        // Content first: an edited entry is reported as edited even if its
        // edit also touched seq or prev_hash, which the hash covers.
        if computed != rec.hash {
            return Err(BreakKind::Altered);
        }
        let expected_seq = self.tip_seq.saturating_add(1);
        if rec.seq > expected_seq {
            return Err(BreakKind::Missing);
        }
        let links = rec.prev_hash == self.tip_hash
            || self.tip_alt_hash.as_deref() == Some(rec.prev_hash.as_str());
        if rec.seq < expected_seq || !links {
            return Err(BreakKind::Inserted);
        }
        Ok(())
    }

    /// Ends the check. `head` is the (seq, hash) of the newest entry as
    /// recorded separately by the store, or `None` if it records no
    /// entries. Returns how many entries were checked.
    pub fn finish(self, head: Option<(i64, &str)>) -> Result<u64, ChainBreak> {
        if let Some(err) = self.first_break {
            return Err(err);
        }
        let (head_seq, head_hash) = match head {
            Some((seq, hash)) => (seq, hash),
            None => (self.start_seq.saturating_sub(1), ""),
        };
        let mismatch_at = if self.tip_seq < head_seq {
            // Entries after the last one seen have been deleted.
            Some(self.tip_seq.saturating_add(1))
        } else if self.tip_seq > head_seq {
            // Entries after the recorded head have been added.
            Some(head_seq.saturating_add(1))
        } else if head.is_some() && self.tip_hash != head_hash {
            Some(head_seq)
        } else {
            None
        };
        match mismatch_at {
            Some(seq) => Err(ChainBreak {
                seq,
                kind: BreakKind::HeadMismatch,
            }),
            None => Ok(self.checked),
        }
    }
}

#[cfg(test)]
mod tests;
