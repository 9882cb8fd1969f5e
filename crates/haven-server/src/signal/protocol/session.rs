//! Session messages: `join`, `leave`, `ping`, `eject`, `end`.

use super::{ClientMsg, ErrorCode, Fields, ProtocolError};
use haven_domain::ConsultationId;

use crate::media::ParticipantId;

/// The longest `seat` accepted (real tokens are 43 characters).
const MAX_SEAT: usize = 256;

pub(super) fn join(mut f: Fields) -> Result<ClientMsg, ProtocolError> {
    let v = f.u64("v")?;
    // The token's shape is checked at admission, which refuses a bad one with
    // `unauthenticated` and closes, as it does an unknown one.
    let seat = f.optional_string("seat")?;
    if seat.as_ref().is_some_and(|s| s.len() > MAX_SEAT) {
        return Err(ProtocolError::new(
            ErrorCode::InvalidField,
            format!(
                "the field \"seat\" of \"join\" is longer than {MAX_SEAT} bytes; it must be the token from the invitation link"
            ),
        ));
    }
    let invite = f.optional_string("invite")?;
    if invite.as_ref().is_some_and(|s| s.len() > MAX_SEAT) {
        return Err(ProtocolError::new(
            ErrorCode::InvalidField,
            format!(
                "the field \"invite\" of \"join\" is longer than {MAX_SEAT} bytes; it must be the token from the invitation link"
            ),
        ));
    }
    let consultation = match f.optional_string("consultation")? {
        None => None,
        Some(text) => Some(ConsultationId::parse(&text).map_err(|_| {
            ProtocolError::new(
                ErrorCode::InvalidField,
                "the field \"consultation\" of \"join\" must be a consultation id (32 hexadecimal characters)",
            )
        })?),
    };
    if [seat.is_some(), invite.is_some(), consultation.is_some()]
        .iter()
        .filter(|x| **x)
        .count()
        > 1
    {
        return Err(ProtocolError::new(
            ErrorCode::InvalidField,
            "\"join\" takes at most one of \"seat\", \"invite\" and \"consultation\"",
        ));
    }
    f.finish()?;
    Ok(ClientMsg::Join {
        v,
        seat,
        invite,
        consultation,
    })
}

pub(super) fn leave(f: Fields) -> Result<ClientMsg, ProtocolError> {
    f.finish()?;
    Ok(ClientMsg::Leave)
}

pub(super) fn ping(f: Fields) -> Result<ClientMsg, ProtocolError> {
    f.finish()?;
    Ok(ClientMsg::Ping)
}

pub(super) fn end(f: Fields) -> Result<ClientMsg, ProtocolError> {
    f.finish()?;
    Ok(ClientMsg::End)
}

pub(super) fn eject(mut f: Fields) -> Result<ClientMsg, ProtocolError> {
    let text = f.string("participant")?;
    let participant = parse_participant(&text).ok_or_else(|| {
        let shown: String = text.chars().take(40).collect();
        ProtocolError::new(
            ErrorCode::InvalidField,
            format!(
                "the field \"participant\" of \"eject\" must be a participant id such as \"p2\", not {shown:?}"
            ),
        )
    })?;
    f.finish()?;
    Ok(ClientMsg::Eject { participant })
}

/// Reads a participant id as the server writes it (`p` and a decimal number).
pub(crate) fn parse_participant(text: &str) -> Option<ParticipantId> {
    let digits = text.strip_prefix('p')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(ParticipantId::new)
}
