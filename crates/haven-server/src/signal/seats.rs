//! A minimal seat model: a seat token grants exactly one seat in one room until it expires.
//!
//! The token (256 random bits, URL-safe base64) is handed out once, in the invitation link;
//! only its SHA-256 is kept, so a memory dump or log of the table reveals no usable link.
//! Ejecting a participant or ending the room revokes the seat at once.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use haven_domain::time::OffsetDateTime;

use crate::media::RoomId;
use crate::web::{random_token, token_hash};

/// The secret of an invitation link. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SeatToken(String);

impl SeatToken {
    /// Length of a token: 32 bytes in unpadded base64.
    const LEN: usize = 43;

    /// A fresh random token.
    pub(crate) fn generate() -> SeatToken {
        SeatToken(random_token())
    }

    /// Checks the shape of a token from a client; the message completes "the field … ".
    pub fn parse(text: &str) -> Result<SeatToken, &'static str> {
        let url_safe = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if text.len() == Self::LEN && text.bytes().all(url_safe) {
            Ok(SeatToken(text.to_owned()))
        } else {
            Err("must be the 43-character token from the invitation link")
        }
    }

    /// The token, for building the invitation link.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the table keeps.
    pub(crate) fn hash(&self) -> SeatHash {
        SeatHash(token_hash(&self.0))
    }
}

impl fmt::Debug for SeatToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SeatToken({redacted})")
    }
}

/// The SHA-256 of a seat token: the key of a seat.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SeatHash(String);

/// One seat.
#[derive(Debug, Clone, Copy)]
struct Seat {
    /// The room it admits to.
    room: RoomId,
    /// When the link stops working.
    expires_at: OffsetDateTime,
}

/// Every seat of every live room.
#[derive(Default)]
pub(crate) struct Seats {
    /// std `Mutex`: each use is one map operation, never held across an `.await`.
    table: Mutex<HashMap<SeatHash, Seat>>,
}

impl Seats {
    /// Issues a seat in `room` valid until `expires_at`; returns its token (the only copy).
    pub(crate) fn issue(&self, room: RoomId, expires_at: OffsetDateTime) -> SeatToken {
        let token = SeatToken::generate();
        self.lock().insert(token.hash(), Seat { room, expires_at });
        token
    }

    /// The seat a token grants, if it exists and has not expired (an expired one is
    /// forgotten).
    pub(crate) fn find(
        &self,
        token: &SeatToken,
        now: OffsetDateTime,
    ) -> Option<(SeatHash, RoomId)> {
        let hash = token.hash();
        let mut table = self.lock();
        let seat = *table.get(&hash)?;
        if now >= seat.expires_at {
            table.remove(&hash);
            return None;
        }
        Some((hash, seat.room))
    }

    /// Whether the seat still exists (not revoked); expiry is checked at `find`.
    pub(crate) fn is_valid(&self, hash: &SeatHash) -> bool {
        self.lock().contains_key(hash)
    }

    /// Revokes one seat (eject).
    pub(crate) fn revoke(&self, hash: &SeatHash) {
        self.lock().remove(hash);
    }

    /// Revokes every seat of a room (end).
    pub(crate) fn revoke_room(&self, room: RoomId) {
        self.lock().retain(|_, seat| seat.room != room);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SeatHash, Seat>> {
        // The sections under this lock cannot panic, so it is never poisoned; recover anyway.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use haven_domain::time::Duration;
    use haven_domain::time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

    #[test]
    fn signal_seat_grants_one_room_until_expiry_or_revocation() {
        let seats = Seats::default();
        let room = RoomId::new(7);
        let token = seats.issue(room, NOW + Duration::hours(1));
        assert_eq!(token.as_str().len(), 43);
        let (hash, found) = seats.find(&token, NOW).expect("a fresh seat works");
        assert_eq!(found, room);
        assert!(seats.is_valid(&hash));
        assert!(
            seats.find(&token, NOW + Duration::hours(1)).is_none(),
            "expired"
        );
        assert!(
            seats.find(&token, NOW).is_none(),
            "an expired seat is forgotten"
        );

        let other = seats.issue(room, NOW + Duration::hours(1));
        let (hash, _) = seats.find(&other, NOW).expect("works");
        seats.revoke(&hash);
        assert!(seats.find(&other, NOW).is_none(), "revoked");

        let a = seats.issue(room, NOW + Duration::hours(1));
        let b = seats.issue(RoomId::new(8), NOW + Duration::hours(1));
        seats.revoke_room(room);
        assert!(seats.find(&a, NOW).is_none());
        assert!(
            seats.find(&b, NOW).is_some(),
            "other rooms keep their seats"
        );
    }

    #[test]
    fn signal_seat_token_shape_is_checked_and_never_printed() {
        let token = SeatToken::generate();
        assert_eq!(SeatToken::parse(token.as_str()), Ok(token.clone()));
        assert_eq!(format!("{token:?}"), "SeatToken({redacted})");
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}!", "a".repeat(42)),
        ] {
            assert!(SeatToken::parse(bad).is_err(), "{bad:?}");
        }
    }
}
