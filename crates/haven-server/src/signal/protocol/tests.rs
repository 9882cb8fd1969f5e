//! One test per parse rule.

use serde_json::json;

use super::*;
use crate::media::ConnectionQuality;

fn code(text: &str) -> (ErrorCode, String) {
    let e = parse(text).expect_err("the message is refused");
    (e.code, e.message)
}

fn assert_refused(text: &str, want: ErrorCode, naming: &[&str]) {
    let (got, message) = code(text);
    assert_eq!(got, want, "{text}: {message}");
    for word in naming {
        assert!(
            message.contains(word),
            "{text}: {message:?} does not name {word:?}"
        );
    }
}

#[test]
fn signal_parse_accepts_every_message_type() {
    let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n";
    let cases = [
        (
            json!({"type": "join", "v": 1}),
            ClientMsg::Join {
                v: 1,
                seat: None,
                invite: None,
                consultation: None,
            },
        ),
        (
            json!({"type": "join", "v": 1, "seat": "abc"}),
            ClientMsg::Join {
                v: 1,
                seat: Some("abc".into()),
                invite: None,
                consultation: None,
            },
        ),
        (
            json!({"type": "join", "v": 1, "invite": "tok"}),
            ClientMsg::Join {
                v: 1,
                seat: None,
                invite: Some("tok".into()),
                consultation: None,
            },
        ),
        (
            json!({"type": "join", "v": 1, "consultation": "0123456789abcdef0123456789abcdef"}),
            ClientMsg::Join {
                v: 1,
                seat: None,
                invite: None,
                consultation: Some(
                    haven_domain::ConsultationId::parse("0123456789abcdef0123456789abcdef")
                        .unwrap(),
                ),
            },
        ),
        (
            json!({"type": "join", "v": 1, "seat": null}),
            ClientMsg::Join {
                v: 1,
                seat: None,
                invite: None,
                consultation: None,
            },
        ),
        (
            json!({"type": "offer", "sdp": sdp}),
            ClientMsg::Offer(Sdp::parse(sdp.into(), "offer").unwrap()),
        ),
        (
            json!({"type": "answer", "sdp": sdp}),
            ClientMsg::Answer(Sdp::parse(sdp.into(), "answer").unwrap()),
        ),
        (
            json!({"type": "candidate", "candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdp_mid": "0"}),
            ClientMsg::Candidate(Candidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(),
                sdp_mid: Some("0".into()),
            }),
        ),
        (
            json!({"type": "candidate", "candidate": ""}),
            ClientMsg::Candidate(Candidate {
                candidate: String::new(),
                sdp_mid: None,
            }),
        ),
        (
            json!({"type": "mute", "kind": "video", "muted": true}),
            ClientMsg::Mute {
                kind: Kind::Video,
                muted: true,
            },
        ),
        (
            json!({"type": "prefer", "audio_only": true}),
            ClientMsg::Prefer { audio_only: true },
        ),
        (
            json!({"type": "view", "participant": "p3", "width": 320, "height": 180}),
            ClientMsg::View {
                participant: ParticipantId::new(3),
                width: 320,
                height: 180,
            },
        ),
        (
            json!({"type": "eject", "participant": "p12"}),
            ClientMsg::Eject {
                participant: ParticipantId::new(12),
            },
        ),
        (json!({"type": "end"}), ClientMsg::End),
        (json!({"type": "leave"}), ClientMsg::Leave),
        (json!({"type": "ping"}), ClientMsg::Ping),
    ];
    for (value, want) in cases {
        assert_eq!(parse(&value.to_string()), Ok(want), "{value}");
    }
}

#[test]
fn signal_parse_refuses_a_frame_over_320_kib() {
    let big = format!(
        "{{\"type\":\"ping\",\"pad\":\"{}\"}}",
        "x".repeat(MAX_FRAME)
    );
    assert_refused(&big, ErrorCode::TooLarge, &["327680"]);
}

#[test]
fn signal_parse_refuses_invalid_json() {
    assert_refused(
        "{\"type\": \"ping\"",
        ErrorCode::InvalidJson,
        &["not valid JSON"],
    );
    assert_refused("", ErrorCode::InvalidJson, &["JSON"]);
}

#[test]
fn signal_parse_refuses_json_that_is_not_an_object() {
    assert_refused("[1,2]", ErrorCode::NotAnObject, &["object", "an array"]);
    assert_refused("\"join\"", ErrorCode::NotAnObject, &["a string"]);
}

#[test]
fn signal_parse_refuses_a_missing_or_ill_typed_type() {
    assert_refused("{\"v\": 1}", ErrorCode::MissingType, &["\"type\""]);
    assert_refused(
        "{\"type\": 3}",
        ErrorCode::MissingType,
        &["\"type\"", "a number"],
    );
}

#[test]
fn signal_parse_refuses_an_unknown_type() {
    assert_refused(
        "{\"type\": \"subscribe\"}",
        ErrorCode::UnknownType,
        &["\"subscribe\"", "join"],
    );
}

#[test]
fn signal_parse_refuses_a_missing_field() {
    assert_refused(
        "{\"type\": \"offer\"}",
        ErrorCode::MissingField,
        &["\"offer\"", "\"sdp\""],
    );
    assert_refused("{\"type\": \"join\"}", ErrorCode::MissingField, &["\"v\""]);
    assert_refused(
        "{\"type\": \"mute\", \"kind\": \"audio\"}",
        ErrorCode::MissingField,
        &["\"muted\""],
    );
}

#[test]
fn signal_parse_refuses_an_extra_field() {
    assert_refused(
        "{\"type\": \"ping\", \"id\": 4}",
        ErrorCode::UnknownField,
        &["\"ping\"", "\"id\""],
    );
    assert_refused(
        "{\"type\": \"join\", \"v\": 1, \"room\": \"x\"}",
        ErrorCode::UnknownField,
        &["\"room\""],
    );
}

#[test]
fn signal_parse_refuses_an_ill_typed_field() {
    assert_refused(
        "{\"type\": \"join\", \"v\": \"1\"}",
        ErrorCode::InvalidField,
        &["\"v\"", "whole number", "a string"],
    );
    assert_refused(
        "{\"type\": \"join\", \"v\": 1.5}",
        ErrorCode::InvalidField,
        &["\"v\""],
    );
    assert_refused(
        "{\"type\": \"join\", \"v\": 1, \"seat\": 5}",
        ErrorCode::InvalidField,
        &["\"seat\""],
    );
    assert_refused(
        "{\"type\": \"mute\", \"kind\": \"audio\", \"muted\": \"yes\"}",
        ErrorCode::InvalidField,
        &["\"muted\"", "true or false"],
    );
    assert_refused(
        "{\"type\": \"mute\", \"kind\": \"screen\", \"muted\": true}",
        ErrorCode::InvalidField,
        &["\"kind\"", "\"screen\""],
    );
    assert_refused(
        "{\"type\": \"prefer\", \"audio_only\": 1}",
        ErrorCode::InvalidField,
        &["\"audio_only\""],
    );
    assert_refused(
        "{\"type\": \"eject\", \"participant\": \"bob\"}",
        ErrorCode::InvalidField,
        &["\"participant\"", "\"bob\""],
    );
    assert_refused(
        "{\"type\": \"eject\", \"participant\": \"p\"}",
        ErrorCode::InvalidField,
        &["\"participant\""],
    );
    assert_refused(
        "{\"type\": \"view\", \"participant\": \"p2\", \"width\": -1, \"height\": 9}",
        ErrorCode::InvalidField,
        &["\"width\"", "whole number"],
    );
    assert_refused(
        "{\"type\": \"view\", \"participant\": \"p2\", \"width\": 9, \"height\": 99999999999}",
        ErrorCode::InvalidField,
        &["\"height\"", "16384"],
    );
    assert_refused(
        "{\"type\": \"view\", \"participant\": \"me\", \"width\": 9, \"height\": 9}",
        ErrorCode::InvalidField,
        &["\"participant\"", "\"me\""],
    );
    assert_refused(
        "{\"type\": \"candidate\", \"candidate\": 1}",
        ErrorCode::InvalidField,
        &["\"candidate\""],
    );
    let long = format!(
        "{{\"type\": \"candidate\", \"candidate\": \"{}\"}}",
        "c".repeat(2000)
    );
    assert_refused(&long, ErrorCode::InvalidField, &["\"candidate\"", "1024"]);
    let seat = format!(
        "{{\"type\": \"join\", \"v\": 1, \"seat\": \"{}\"}}",
        "s".repeat(300)
    );
    assert_refused(&seat, ErrorCode::InvalidField, &["\"seat\""]);
    assert_refused(
        "{\"type\": \"join\", \"v\": 1, \"consultation\": \"c1\"}",
        ErrorCode::InvalidField,
        &["\"consultation\"", "32 hexadecimal"],
    );
    assert_refused(
        "{\"type\": \"join\", \"v\": 1, \"seat\": \"a\", \"invite\": \"b\"}",
        ErrorCode::InvalidField,
        &["at most one"],
    );
}

#[test]
fn signal_parse_refuses_an_sdp_that_is_not_one() {
    assert_refused(
        "{\"type\": \"offer\", \"sdp\": \"hello\"}",
        ErrorCode::InvalidSdp,
        &["\"sdp\"", "v=0"],
    );
    assert_refused(
        "{\"type\": \"answer\", \"sdp\": \"\"}",
        ErrorCode::InvalidSdp,
        &["\"answer\"", "v=0"],
    );
}

#[test]
fn signal_parse_refuses_an_sdp_over_256_kib() {
    let sdp = format!("v=0\\r\\n{}", "a".repeat(MAX_SDP));
    let text = format!("{{\"type\": \"offer\", \"sdp\": \"{sdp}\"}}");
    assert_refused(&text, ErrorCode::InvalidSdp, &["\"sdp\"", "262144"]);
}

#[test]
fn signal_server_messages_have_the_documented_shape() {
    let welcome = ServerMsg::Welcome {
        participant: "p1".into(),
        room: "3".into(),
        host: true,
        participants: vec![ParticipantInfo {
            id: "p1".into(),
            host: true,
            connected: true,
            audio_muted: false,
            video_muted: false,
            audio_only: false,
            name: None,
        }],
        ice_servers: vec![IceServer {
            urls: vec!["turn:turn.example.org:3478".into()],
            username: None,
            credential: None,
        }],
    };
    let value: serde_json::Value = serde_json::from_str(&welcome.to_json()).unwrap();
    assert_eq!(
        value,
        json!({
            "type": "welcome", "participant": "p1", "room": "3", "host": true,
            "participants": [{"id": "p1", "host": true, "connected": true,
                "audio_muted": false, "video_muted": false, "audio_only": false}],
            "ice_servers": [{"urls": ["turn:turn.example.org:3478"]}]
        })
    );
    assert_eq!(ServerMsg::Pong {}.to_json(), r#"{"type":"pong"}"#);
    let error = ServerMsg::error(ProtocolError::new(ErrorCode::RateLimited, "slow down"));
    assert_eq!(
        error.to_json(),
        r#"{"type":"error","code":"rate_limited","message":"slow down"}"#
    );
    let mute = ServerMsg::Mute {
        participant: "p2".into(),
        kind: Kind::Audio,
        muted: true,
    };
    assert_eq!(
        mute.to_json(),
        r#"{"type":"mute","participant":"p2","kind":"audio","muted":true}"#
    );
    let quality = ServerMsg::quality(
        ParticipantId::new(4),
        &ConnectionQuality {
            loss_permille: 31,
            rtt_ms: Some(42),
            in_kbps: 900,
            out_kbps: 1200,
            ..ConnectionQuality::default()
        },
    );
    assert_eq!(
        quality.to_json(),
        r#"{"type":"quality","participant":"p4","level":"fair","loss_permille":31,"rtt_ms":42,"in_kbps":900,"out_kbps":1200}"#
    );
    let audio_only = ServerMsg::AudioOnly {
        reason: AudioOnlyWhy::LowBandwidth,
    };
    assert_eq!(
        audio_only.to_json(),
        r#"{"type":"audio_only","reason":"low_bandwidth"}"#
    );
    assert_eq!(
        ServerMsg::VideoResumed {}.to_json(),
        r#"{"type":"video_resumed"}"#
    );
    let speaker = ServerMsg::Speaker {
        participant: "p1".into(),
    };
    assert_eq!(
        speaker.to_json(),
        r#"{"type":"speaker","participant":"p1"}"#
    );
}

#[test]
fn signal_quality_levels_use_the_browser_thresholds() {
    let level = |loss_permille, rtt_ms| {
        QualityLevel::of(&ConnectionQuality {
            loss_permille,
            rtt_ms,
            ..ConnectionQuality::default()
        })
    };
    assert_eq!(level(0, None), QualityLevel::Good);
    assert_eq!(level(20, Some(300)), QualityLevel::Good);
    assert_eq!(level(21, Some(10)), QualityLevel::Fair);
    assert_eq!(level(0, Some(301)), QualityLevel::Fair);
    assert_eq!(level(81, Some(10)), QualityLevel::Poor);
    assert_eq!(level(5, Some(601)), QualityLevel::Poor);
}
