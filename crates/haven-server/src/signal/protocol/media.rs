//! Media messages: `offer`, `answer`, `candidate`, `mute`, `prefer`, `view`.

use serde::Serialize;

use super::session::parse_participant;
use super::{ClientMsg, ErrorCode, Fields, MAX_SDP, ProtocolError};

/// An SDP that starts with `v=0` and is at most [`MAX_SDP`] bytes. The media server parses
/// it fully; this only keeps obvious garbage away from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sdp(String);

impl Sdp {
    /// Checks the outline of an SDP; `ty` names the message for the error.
    pub fn parse(text: String, ty: &str) -> Result<Sdp, ProtocolError> {
        if text.len() > MAX_SDP {
            return Err(ProtocolError::new(
                ErrorCode::InvalidSdp,
                format!(
                    "the field \"sdp\" of \"{ty}\" is {} bytes; the largest accepted is {MAX_SDP} bytes",
                    text.len()
                ),
            ));
        }
        if !text.starts_with("v=0") {
            return Err(ProtocolError::new(
                ErrorCode::InvalidSdp,
                format!("the field \"sdp\" of \"{ty}\" is not an SDP: it must start with \"v=0\""),
            ));
        }
        Ok(Sdp(text))
    }

    /// The SDP text.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Microphone or camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The microphone.
    Audio,
    /// The camera.
    Video,
}

/// A trickled ICE candidate, checked for size only: an ICE-lite server learns the client's
/// addresses from its connectivity checks and never uses remote candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The `candidate:` line (empty for end-of-candidates).
    pub candidate: String,
    /// The media section it belongs to.
    pub sdp_mid: Option<String>,
}

/// The longest candidate line accepted; real ones are under 200 bytes.
const MAX_CANDIDATE: usize = 1024;
/// The longest `sdp_mid` accepted.
const MAX_MID: usize = 64;

pub(super) fn offer(mut f: Fields) -> Result<ClientMsg, ProtocolError> {
    let sdp = Sdp::parse(f.string("sdp")?, "offer")?;
    f.finish()?;
    Ok(ClientMsg::Offer(sdp))
}

pub(super) fn answer(mut f: Fields) -> Result<ClientMsg, ProtocolError> {
    let sdp = Sdp::parse(f.string("sdp")?, "answer")?;
    f.finish()?;
    Ok(ClientMsg::Answer(sdp))
}

pub(super) fn candidate(mut f: Fields) -> Result<ClientMsg, ProtocolError> {
    let candidate = f.string("candidate")?;
    if candidate.len() > MAX_CANDIDATE {
        return Err(ProtocolError::new(
            ErrorCode::InvalidField,
            format!(
                "the field \"candidate\" of \"candidate\" is longer than {MAX_CANDIDATE} bytes"
            ),
        ));
    }
    let sdp_mid = f.optional_string("sdp_mid")?;
    if sdp_mid.as_ref().is_some_and(|m| m.len() > MAX_MID) {
        return Err(ProtocolError::new(
            ErrorCode::InvalidField,
            format!("the field \"sdp_mid\" of \"candidate\" is longer than {MAX_MID} bytes"),
        ));
    }
    f.finish()?;
    Ok(ClientMsg::Candidate(Candidate { candidate, sdp_mid }))
}

pub(super) fn mute(mut f: Fields) -> Result<ClientMsg, ProtocolError> {
    let kind = match f.string("kind")?.as_str() {
        "audio" => Kind::Audio,
        "video" => Kind::Video,
        other => {
            let shown: String = other.chars().take(40).collect();
            return Err(ProtocolError::new(
                ErrorCode::InvalidField,
                format!(
                    "the field \"kind\" of \"mute\" must be \"audio\" or \"video\", not {shown:?}"
                ),
            ));
        }
    };
    let muted = f.bool("muted")?;
    f.finish()?;
    Ok(ClientMsg::Mute { kind, muted })
}

pub(super) fn prefer(mut f: Fields) -> Result<ClientMsg, ProtocolError> {
    let audio_only = f.bool("audio_only")?;
    f.finish()?;
    Ok(ClientMsg::Prefer { audio_only })
}

/// The largest tile side accepted, in CSS pixels: beyond any screen (an 8K display is 7680).
const MAX_VIEW_SIDE: u64 = 16_384;

pub(super) fn view(mut f: Fields) -> Result<ClientMsg, ProtocolError> {
    let text = f.string("participant")?;
    let participant = parse_participant(&text).ok_or_else(|| {
        let shown: String = text.chars().take(40).collect();
        ProtocolError::new(
            ErrorCode::InvalidField,
            format!(
                "the field \"participant\" of \"view\" must be a participant id such as \"p2\", not {shown:?}"
            ),
        )
    })?;
    let width = view_side(&mut f, "width")?;
    let height = view_side(&mut f, "height")?;
    f.finish()?;
    Ok(ClientMsg::View {
        participant,
        width,
        height,
    })
}

fn view_side(f: &mut Fields, name: &str) -> Result<u32, ProtocolError> {
    let side = f.u64(name)?;
    u32::try_from(side)
        .ok()
        .filter(|s| u64::from(*s) <= MAX_VIEW_SIDE)
        .ok_or_else(|| {
            ProtocolError::new(
                ErrorCode::InvalidField,
                format!("the field \"{name}\" of \"view\" must be at most {MAX_VIEW_SIDE} pixels"),
            )
        })
}
