use super::*;

const NAME: &str = "John Smith";
const EMAIL: &str = "jsmith.work@example.org";

fn parse(raw: &str) -> Result<Password, Error> {
    Password::parse(raw, &[NAME, EMAIL])
}

fn rejection(raw: &str) -> PasswordRejection {
    match parse(raw) {
        Err(Error::Password(r)) => r,
        other => panic!("{raw:?} was not rejected by the policy: {other:?}"),
    }
}

#[test]
fn accepts_good_passphrases() {
    let max_len = "glacier ".repeat(16);
    let max_len = format!("{}x9", &max_len[..126]);
    assert_eq!(max_len.chars().count(), MAX_CHARS);
    let accepted = [
        "correct horse battery staple orbit",
        "quietly marble fox dances under violet kettles",
        "copper lantern orchard wisdom",
        "Vq7#mL2p!zR9wX",
        max_len.as_str(),
    ];
    for raw in accepted {
        assert!(parse(raw).is_ok(), "{raw:?}: {:?}", parse(raw));
    }
}

/// The rejection's variant, ignoring zxcvbn's exact feedback.
fn kind(r: &PasswordRejection) -> &'static str {
    match r {
        PasswordRejection::TooShort { min: 12 } => "too short",
        PasswordRejection::TooLong { max: 128 } => "too long",
        PasswordRejection::Guessable { .. } => "guessable",
        PasswordRejection::ContainsPersonalInfo => "personal",
        _ => "unexpected limit",
    }
}

#[test]
fn rejects_with_the_right_reason() {
    let long_passphrase = "glacier ".repeat(17)[..129].to_owned();
    let cases: &[(&str, &str)] = &[
        ("password1234", "guessable"),
        ("aaaaaaaaaaaaaa", "guessable"),
        ("qwertyuiop123", "guessable"),
        ("12345678901", "too short"),
        ("tree bee sk", "too short"),
        ("", "too short"),
        (&long_passphrase, "too long"),
        ("johnsmith-harbour-2019", "personal"),
        ("velvet SMITH quarry lantern", "personal"),
        ("my jsmith.work meadow kettle", "personal"),
        ("jsmith.work@example.org!", "personal"),
    ];
    for &(raw, expected) in cases {
        assert_eq!(kind(&rejection(raw)), expected, "{raw:?}");
    }
}

#[test]
fn length_counts_characters_not_bytes() {
    // Eleven two-byte characters: 22 bytes, still too short.
    let short = "é".repeat(11);
    assert_eq!(rejection(&short), PasswordRejection::TooShort { min: 12 });
    // 128 three-byte characters are within the limit; 129 are not.
    let cjk_ok: String = "雪山湖森風".chars().cycle().take(128).collect();
    assert!(!matches!(
        parse(&cjk_ok),
        Err(Error::Password(PasswordRejection::TooLong { .. }))
    ));
    let cjk_long: String = "雪山湖森風".chars().cycle().take(129).collect();
    assert_eq!(
        rejection(&cjk_long),
        PasswordRejection::TooLong { max: 128 }
    );
}

#[test]
fn checks_run_in_order_length_personal_guessable() {
    // Short and personal: length wins.
    assert_eq!(rejection("john"), PasswordRejection::TooShort { min: 12 });
    // Personal and guessable: personal wins.
    assert_eq!(
        rejection("smithsmithsmith"),
        PasswordRejection::ContainsPersonalInfo
    );
}

#[test]
fn short_personal_fragments_are_not_matched() {
    let inputs = ["Jo Li", "jo@example.org"];
    assert!(Password::parse("jovial lighthouse meadow", &inputs).is_ok());
    // Blank or degenerate details do not turn every password personal.
    assert!(Password::parse("velvet @ quarry lantern", &["", "@", " "]).is_ok());
    assert_eq!(
        Password::parse("jo@example.org harbour", &inputs).map(|_| ()),
        Err(Error::Password(PasswordRejection::ContainsPersonalInfo))
    );
}

#[test]
fn guessable_carries_feedback() {
    match rejection("password1234") {
        PasswordRejection::Guessable {
            warning,
            suggestions,
        } => {
            assert!(warning.is_some() || !suggestions.is_empty());
        }
        other => panic!("expected Guessable, got {other:?}"),
    }
}

#[test]
fn every_message_ends_with_the_passphrase_advice() {
    let rejections = [
        PasswordRejection::TooShort { min: 12 },
        PasswordRejection::TooLong { max: 128 },
        PasswordRejection::ContainsPersonalInfo,
        PasswordRejection::Guessable {
            warning: None,
            suggestions: vec![],
        },
        rejection("password1234"),
    ];
    for r in rejections {
        let msg = Error::Password(r.clone()).to_string();
        assert!(msg.ends_with(ADVICE), "{msg}");
        assert!(msg.len() > ADVICE.len() + 10, "says why as well: {msg}");
    }
    assert!(
        PasswordRejection::TooShort { min: 12 }
            .to_string()
            .starts_with("Your password must be at least 12 characters long.")
    );
    let guessable = PasswordRejection::Guessable {
        warning: Some("This is a top-10 common password.".into()),
        suggestions: vec!["Add another word or two.".into()],
    };
    assert!(guessable.to_string().contains(
        "too easy to guess. This is a top-10 common password. Add another word or two. Try"
    ));
}

#[test]
fn the_advice_example_is_itself_accepted() {
    let example = ADVICE.split('\'').nth(1).expect("ADVICE quotes an example");
    assert!(Password::parse(example, &[]).is_ok(), "{example}");
}

#[test]
fn secrets_are_redacted() {
    let pw = parse("correct horse battery staple orbit").expect("accepted");
    assert_eq!(format!("{pw:?}"), "Password({redacted})");
    let hash = hash_password(&pw, [1; 16]);
    assert_eq!(format!("{hash:?}"), "PasswordHash({redacted})");
}

#[test]
fn hash_and_verify_round_trip() {
    let raw = "correct horse battery staple orbit";
    let pw = parse(raw).expect("accepted");
    let hash = hash_password(&pw, [7; 16]);
    assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(hash.verify(raw));
    assert!(!hash.verify("correct horse battery staple orbiT"));
    assert!(!hash.verify(""));
    let stored = PasswordHash::from_stored(hash.as_str().to_owned()).expect("valid PHC");
    assert!(stored.verify(raw));
    // A different salt gives a different hash of the same password.
    assert_ne!(hash_password(&pw, [8; 16]).as_str(), hash.as_str());
}

#[test]
fn from_stored_rejects_unusable_strings() {
    let bad = [
        "",
        "plaintext",
        "$argon2id$v=19$m=19456,t=2,p=1",
        "$argon2id$v=19$m=19456,t=2,p=1$aGF2ZW4tZHVtbXktc2FsdA",
        "$argon2i$v=19$m=19456,t=2,p=1$aGF2ZW4tZHVtbXktc2FsdA$FR6GMvYO79WUc2Pyzs4Y/RZTIUQ+nXrZDbMiGsa0uos",
        "$2b$12$abcdefghijklmnopqrstuuC6hF0OTf6t5y9y6BSaSCy3B5ZrIe4y",
        "$argon2id$v=19$m=1,t=2,p=1$aGF2ZW4tZHVtbXktc2FsdA$FR6GMvYO79WUc2Pyzs4Y/RZTIUQ+nXrZDbMiGsa0uos",
    ];
    for s in bad {
        assert_eq!(
            PasswordHash::from_stored(s.to_owned()),
            Err(Error::InvalidPasswordHash),
            "{s}"
        );
    }
}

#[test]
fn dummy_hash_matches_current_parameters() {
    let dummy = PasswordHash::from_stored(DUMMY_HASH.to_owned()).expect("DUMMY_HASH is valid");
    let pw = Password::parse("haven dummy account never signs in", &[]).expect("accepted");
    let fresh = hash_password(&pw, *b"haven-dummy-salt");
    assert_eq!(
        fresh.as_str(),
        DUMMY_HASH,
        "regenerate DUMMY_HASH if the parameters change"
    );
    assert!(dummy.verify("haven dummy account never signs in"));
    // Runs a full verification and returns nothing; must not panic.
    dummy_verify("anything at all");
}
