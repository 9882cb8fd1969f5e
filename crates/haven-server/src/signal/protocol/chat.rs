//! Chat messages: `chat` (a message to everyone in the call) and `chat_keep` (a
//! clinician keeps the chat with the consultation's record).
//!
//! Only the shape is checked here. What the text may be (not blank, at most 1000
//! characters, no control characters) and how often one may send are the chat's rules
//! (`haven_domain::chat`), applied by the room, whose refusals do not count towards the
//! connection's error limit: a person who types too much is not a broken client.

use super::{ClientMsg, ErrorCode, Fields, ProtocolError};

/// The most bytes a chat text may have on the wire: 1000 characters of four bytes each,
/// with room for JSON escapes. Longer frames are a broken or hostile client.
pub const MAX_CHAT_BYTES: usize = 16 * 1024;

pub(super) fn chat(mut f: Fields) -> Result<ClientMsg, ProtocolError> {
    let text = f.string("text")?;
    if text.len() > MAX_CHAT_BYTES {
        return Err(ProtocolError::new(
            ErrorCode::InvalidField,
            format!(
                "the field \"text\" of \"chat\" is {} bytes; a chat message may have at most \
                 1000 characters",
                text.len()
            ),
        ));
    }
    f.finish()?;
    Ok(ClientMsg::Chat { text })
}

pub(super) fn chat_keep(f: Fields) -> Result<ClientMsg, ProtocolError> {
    f.finish()?;
    Ok(ClientMsg::ChatKeep)
}
