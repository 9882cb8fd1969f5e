use super::*;

/// RFC 6238 Appendix B's SHA-1 key.
fn rfc_secret() -> TotpSecret {
    TotpSecret::from_bytes(*b"12345678901234567890")
}

/// A fixed clock: 2025-03-01 09:00:15 UTC, mid-step.
const NOW: i64 = 1_740_819_615;

#[test]
fn rfc6238_sha1_vectors() {
    // The RFC gives 8-digit codes; a 6-digit code is the last 6 digits.
    let vectors = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];
    let secret = rfc_secret();
    for (time, eight) in vectors {
        assert_eq!(code_at(&secret, time), &eight[2..], "t={time}");
    }
}

#[test]
fn accepts_one_step_of_skew_either_way() {
    let secret = rfc_secret();
    let step = step_at(NOW);
    let cases = [
        (0, Some(step)),
        (-30, Some(step - 1)),
        (30, Some(step + 1)),
        (-90, None),
        (90, None),
        (-60, None),
        (60, None),
    ];
    for (offset, expected) in cases {
        // The phone's clock is `offset` seconds away from the server's.
        let code = code_at(&secret, NOW + offset);
        assert_eq!(
            verify(&secret, &code, NOW, None),
            expected,
            "offset {offset}"
        );
    }
}

#[test]
fn a_code_cannot_be_replayed() {
    let secret = rfc_secret();
    let code = code_at(&secret, NOW);
    let used = verify(&secret, &code, NOW, None).expect("fresh code");
    assert_eq!(verify(&secret, &code, NOW, Some(used)), None);
    assert_eq!(verify(&secret, &code, NOW + 10, Some(used)), None);
    // An older code is refused once a newer one has been used.
    let previous = code_at(&secret, NOW - 30);
    assert_eq!(verify(&secret, &previous, NOW, Some(used)), None);
    // The next step's code is still fine.
    let next = code_at(&secret, NOW + 30);
    assert_eq!(verify(&secret, &next, NOW + 30, Some(used)), Some(used + 1));
}

#[test]
fn malformed_codes_are_refused() {
    let secret = rfc_secret();
    let code = code_at(&secret, NOW);
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    assert_eq!(verify(&secret, &spaced, NOW, None), Some(step_at(NOW)));
    assert_eq!(
        verify(&secret, &format!(" {code} "), NOW, None),
        Some(step_at(NOW))
    );
    let wrong = [
        String::new(),
        code[..5].to_owned(),
        format!("{code}0"),
        format!("0{code}"),
        "abcdef".to_owned(),
        "１２３４５６".to_owned(),
        format!("{}-{}", &code[..3], &code[3..]),
    ];
    for input in wrong {
        assert_eq!(verify(&secret, &input, NOW, None), None, "{input:?}");
    }
}

#[test]
fn wrong_code_is_refused() {
    let secret = rfc_secret();
    let code = code_at(&secret, NOW);
    let digit = (code.as_bytes()[0] - b'0' + 1) % 10;
    let wrong = format!("{digit}{}", &code[1..]);
    assert_eq!(verify(&secret, &wrong, NOW, None), None);
    let other = TotpSecret::from_bytes([7; 20]);
    assert_ne!(
        code_at(&other, NOW),
        code,
        "different keys give different codes here"
    );
    assert_eq!(verify(&other, &code, NOW, None), None);
}

#[test]
fn steps_are_30_seconds() {
    assert_eq!(step_at(0), 0);
    assert_eq!(step_at(29), 0);
    assert_eq!(step_at(30), 1);
    assert_eq!(step_at(-1), -1);
    let secret = rfc_secret();
    assert_eq!(code_at(&secret, 30), code_at(&secret, 59));
    assert_eq!(code_at(&secret, -1).len(), 6);
}

#[test]
fn base32_round_trip_and_limits() {
    let secret = rfc_secret();
    let encoded = secret.to_base32();
    assert_eq!(encoded, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_eq!(TotpSecret::from_base32(&encoded), Ok(secret.clone()));
    assert_eq!(
        TotpSecret::from_base32(&encoded.to_lowercase()),
        Ok(secret.clone())
    );
    let padded = BASE32_NOPAD.encode(&[1; 16]) + "======";
    assert!(TotpSecret::from_base32(&padded).is_ok());
    let too_short = BASE32_NOPAD.encode(&[1; 15]);
    let too_long = BASE32_NOPAD.encode(&[1; 65]);
    for bad in ["", "not base32!", "GEZDGNBVGY3TQOJ1", &too_short, &too_long] {
        assert_eq!(
            TotpSecret::from_base32(bad),
            Err(Error::InvalidTotpSecret),
            "{bad:?}"
        );
    }
    assert_eq!(format!("{secret:?}"), "TotpSecret({redacted})");
}

#[test]
fn otpauth_uri_is_encoded() {
    let secret = rfc_secret();
    assert_eq!(
        secret.otpauth_uri("Haven", "jo@example.org"),
        "otpauth://totp/Haven:jo%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=Haven&algorithm=SHA1&digits=6&period=30"
    );
    let uri = secret.otpauth_uri("Riverside Surgery: A&E", "zoë?x=1");
    assert!(
        uri.starts_with("otpauth://totp/Riverside%20Surgery%3A%20A%26E:zo%C3%AB%3Fx%3D1?secret=")
    );
    assert!(uri.contains("&issuer=Riverside%20Surgery%3A%20A%26E&"));
}

#[test]
fn recovery_codes_format() {
    let cases = [
        ([0u8; 10], "0000-0000-0000-0000"),
        ([0xff; 10], "zzzz-zzzz-zzzz-zzzz"),
        (
            [0x00, 0x44, 0x32, 0x14, 0xc7, 0x42, 0x54, 0xb6, 0x35, 0xcf],
            "0123-4567-89ab-cdef",
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(recovery_code_from_bytes(bytes), expected);
    }
    let code = recovery_code_from_bytes([0x5a; 10]);
    assert_eq!(code.len(), 19);
    assert!(
        code.chars()
            .all(|c| c == '-' || RECOVERY_ALPHABET.contains(&(c as u8)))
    );
}

#[test]
fn recovery_codes_normalise_and_hash() {
    let code = recovery_code_from_bytes([0x5a; 10]);
    let cases = [
        code.clone(),
        code.to_uppercase(),
        code.replace('-', ""),
        code.replace('-', " "),
        format!("  {}  ", code.replace('-', " - ")),
    ];
    for typed in &cases {
        assert_eq!(
            normalise_recovery_code(typed),
            code.replace('-', ""),
            "{typed:?}"
        );
        assert_eq!(recovery_code_hash(typed), recovery_code_hash(&code));
    }
    assert_eq!(normalise_recovery_code("O1L-IoK"), "01110k");
    assert_ne!(
        recovery_code_hash(&code),
        recovery_code_hash("0000-0000-0000-0000")
    );
    // Hex SHA-256 of "abc".
    assert_eq!(
        recovery_code_hash("a-b-c"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
