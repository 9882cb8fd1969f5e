use super::*;
use time::Duration;
use time::macros::datetime;

fn org() -> OrgId {
    OrgId::from_random([0x11; 16])
}

fn staff() -> Actor {
    Actor::Staff(UserId::from_random([0x22; 16]))
}

/// Builds a correctly chained record following `prev` (or genesis).
fn next(prev: Option<&AuditRecord>, action: &str) -> AuditRecord {
    let (seq, prev_hash) = match prev {
        Some(p) => (p.seq + 1, p.hash.clone()),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let mut rec = AuditRecord {
        seq,
        at: datetime!(2025-03-01 09:00 UTC) + Duration::seconds(seq),
        actor: if seq % 2 == 0 { staff() } else { Actor::System },
        action: action.to_owned(),
        object: format!("object-{seq}"),
        org_id: (seq % 3 != 0).then(org),
        client_addr: Some("192.0.2.7".to_owned()),
        detail: String::new(),
        prev_hash,
        hash: String::new(),
    };
    rec.hash = rec.computed_hash();
    rec
}

fn chain(n: usize) -> Vec<AuditRecord> {
    let mut out: Vec<AuditRecord> = Vec::new();
    for i in 0..n {
        let rec = next(out.last(), &format!("action.{i}"));
        out.push(rec);
    }
    out
}

fn head(log: &[AuditRecord]) -> Option<(i64, &str)> {
    log.last().map(|r| (r.seq, r.hash.as_str()))
}

/// Verifies `log` against `head` from genesis; returns every break pushed
/// plus the result of finish.
fn verify(
    log: &[AuditRecord],
    head: Option<(i64, &str)>,
) -> (Vec<ChainBreak>, Result<u64, ChainBreak>) {
    let mut v = ChainVerifier::new(GENESIS_HASH.to_owned(), 1);
    let breaks = log.iter().filter_map(|r| v.push(r).err()).collect();
    (breaks, v.finish(head))
}

fn brk(seq: i64, kind: BreakKind) -> ChainBreak {
    ChainBreak { seq, kind }
}

#[test]
fn intact_chain_verifies() {
    for n in [0, 1, 2, 10] {
        let log = chain(n);
        assert_eq!(verify(&log, head(&log)), (vec![], Ok(n as u64)), "n={n}");
    }
}

#[test]
fn genesis_hash_is_64_zeros() {
    assert_eq!(GENESIS_HASH.len(), 64);
    assert!(GENESIS_HASH.bytes().all(|b| b == b'0'));
}

#[test]
fn editing_any_field_is_altered_at_that_entry() {
    type Edit = fn(&mut AuditRecord);
    let edits: &[(&str, Edit)] = &[
        ("action", |r| r.action.push('x')),
        ("object", |r| r.object = "someone-else".into()),
        ("detail", |r| r.detail = "hidden".into()),
        ("actor", |r| r.actor = Actor::Seat("seat-1".into())),
        ("org_id set", |r| {
            r.org_id = Some(OrgId::from_random([9; 16]))
        }),
        ("org_id cleared", |r| r.org_id = None),
        ("client_addr", |r| r.client_addr = None),
        ("client_addr empty", |r| r.client_addr = Some(String::new())),
        ("time", |r| r.at += Duration::seconds(1)),
        ("time by a microsecond", |r| {
            r.at += Duration::microseconds(1)
        }),
        ("prev_hash", |r| r.prev_hash = GENESIS_HASH.into()),
        ("hash", |r| r.hash = GENESIS_HASH.into()),
    ];
    for (what, edit) in edits {
        let mut log = chain(6);
        edit(&mut log[3]);
        let (breaks, finished) = verify(&log, head(&chain(6)));
        assert_eq!(breaks, [brk(4, BreakKind::Altered)], "{what}");
        assert_eq!(finished, Err(brk(4, BreakKind::Altered)), "{what}");
    }
}

#[test]
fn renumbering_an_entry_moves_it_and_leaves_a_gap() {
    let mut log = chain(6);
    log[3].seq = 100;
    // The store reads entries in seq order.
    log.sort_by_key(|r| r.seq);
    let (breaks, finished) = verify(&log, head(&chain(6)));
    assert_eq!(
        breaks,
        [brk(5, BreakKind::Missing), brk(100, BreakKind::Altered)]
    );
    assert_eq!(finished, Err(brk(5, BreakKind::Missing)));
}

#[test]
fn an_edit_with_a_recomputed_hash_shows_at_the_next_entry() {
    let mut log = chain(6);
    log[3].action = "nothing.happened".into();
    log[3].hash = log[3].computed_hash();
    let (breaks, _) = verify(&log, head(&log));
    assert_eq!(breaks, [brk(5, BreakKind::Inserted)]);
}

#[test]
fn deleting_a_middle_entry_is_missing_at_the_next() {
    let mut log = chain(6);
    log.remove(2); // seq 3
    assert_eq!(
        verify(&log, head(&log)),
        (
            vec![brk(4, BreakKind::Missing)],
            Err(brk(4, BreakKind::Missing))
        )
    );
    let mut first_gone = chain(3);
    first_gone.remove(0);
    assert_eq!(
        verify(&first_gone, head(&first_gone)).0,
        [brk(2, BreakKind::Missing)]
    );
}

#[test]
fn deleting_the_newest_entries_is_a_head_mismatch() {
    let full = chain(5);
    let recorded = head(&full);
    let cases = [(4, 5), (2, 3), (0, 1)];
    for (kept, first_missing) in cases {
        let (breaks, finished) = verify(&full[..kept], recorded);
        assert!(breaks.is_empty());
        assert_eq!(
            finished,
            Err(brk(first_missing, BreakKind::HeadMismatch)),
            "kept {kept}"
        );
    }
}

#[test]
fn inserting_an_entry_is_reported_at_it_or_the_one_after() {
    let log = chain(5);

    // A second entry numbered 3, correctly hashed and linked to entry 3.
    let mut duplicate = log.clone();
    let forged = next(Some(&log[2]), "forged");
    let forged = AuditRecord {
        seq: 3,
        hash: String::new(),
        ..forged
    };
    let forged = AuditRecord {
        hash: forged.computed_hash(),
        ..forged
    };
    duplicate.insert(3, forged);
    assert_eq!(
        verify(&duplicate, head(&log)).0.first(),
        Some(&brk(3, BreakKind::Inserted))
    );

    // Entry 3 replaced by a forgery with a fitting seq, link and hash.
    let mut replaced = log.clone();
    replaced[2] = next(Some(&log[1]), "forged");
    assert_eq!(
        verify(&replaced, head(&log)).0,
        [brk(4, BreakKind::Inserted)]
    );

    // A forgery slotted in as 4, later entries renumbered but not rehashed.
    let mut renumbered = log.clone();
    renumbered.insert(3, next(Some(&log[2]), "forged"));
    for rec in &mut renumbered[4..] {
        rec.seq += 1;
    }
    assert_eq!(
        verify(&renumbered, head(&log)).0.first(),
        Some(&brk(5, BreakKind::Altered))
    );

    // A forgery with a wild seq, linked and hashed, lands at the end.
    let mut wild = log.clone();
    let mut far = next(log.last(), "forged");
    far.seq = 1_000;
    far.hash = far.computed_hash();
    wild.push(far);
    assert_eq!(
        verify(&wild, head(&log)).0,
        [brk(1_000, BreakKind::Missing)]
    );

    // A perfectly chained new last entry: only the head can tell.
    let mut appended = log.clone();
    appended.push(next(log.last(), "forged"));
    assert_eq!(
        verify(&appended, head(&log)),
        (vec![], Err(brk(6, BreakKind::HeadMismatch)))
    );
}

#[test]
fn a_wrong_head_hash_or_empty_head_is_a_mismatch() {
    let log = chain(3);
    assert_eq!(
        verify(&log, Some((3, GENESIS_HASH))).1,
        Err(brk(3, BreakKind::HeadMismatch))
    );
    assert_eq!(verify(&log, None).1, Err(brk(1, BreakKind::HeadMismatch)));
    assert_eq!(verify(&[], None).1, Ok(0));
}

#[test]
fn separate_damage_is_reported_separately() {
    let mut log = chain(8);
    log[1].detail = "x".into();
    log.remove(5); // seq 6
    let (breaks, finished) = verify(&log, head(&log));
    assert_eq!(
        breaks,
        [brk(2, BreakKind::Altered), brk(7, BreakKind::Missing)]
    );
    assert_eq!(finished, Err(brk(2, BreakKind::Altered)));
}

#[test]
fn verification_can_start_from_a_checkpoint() {
    let log = chain(6);
    let mut v = ChainVerifier::new(log[2].hash.clone(), 4);
    for rec in &log[3..] {
        assert_eq!(v.push(rec), Ok(()));
    }
    assert_eq!(v.finish(head(&log)), Ok(3));
    // An empty range from a checkpoint that is the head.
    let v = ChainVerifier::new(log[5].hash.clone(), 7);
    assert_eq!(v.finish(head(&log)), Ok(0));
}

#[test]
fn break_messages() {
    let cases = [
        (
            BreakKind::Altered,
            "entry 42: content altered (hash does not match)",
        ),
        (
            BreakKind::Missing,
            "entry 42: an entry before it is missing",
        ),
        (
            BreakKind::Inserted,
            "entry 42: does not follow on from the entry before it",
        ),
        (
            BreakKind::HeadMismatch,
            "entry 42: the log does not end where its recorded head says",
        ),
    ];
    for (kind, expected) in cases {
        assert!(brk(42, kind).to_string().starts_with(expected), "{kind:?}");
    }
}

/// The encoding written out independently, as an auditor would.
#[test]
fn hash_matches_the_documented_encoding() {
    fn field(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(&(b.len() as u64).to_be_bytes());
        out.extend_from_slice(b);
    }
    let at = datetime!(2025-03-01 09:00:00.123456789 UTC);
    let user = UserId::from_random([0xab; 16]);
    let mut m = Vec::new();
    field(&mut m, b"haven-audit-v1");
    field(&mut m, GENESIS_HASH.as_bytes());
    field(&mut m, &7i64.to_be_bytes());
    field(&mut m, &1_740_819_600_123_456_000i128.to_be_bytes());
    field(&mut m, b"staff");
    m.push(1);
    field(&mut m, user.as_str().as_bytes());
    field(&mut m, b"user.sign_in");
    field(&mut m, b"obj");
    m.push(0);
    m.push(1);
    field(&mut m, b"203.0.113.9");
    field(&mut m, b"ok");
    let expected = hex::encode(Sha256::digest(&m));
    let actual = entry_hash(
        GENESIS_HASH,
        7,
        at,
        &Actor::Staff(user),
        "user.sign_in",
        "obj",
        None,
        Some("203.0.113.9"),
        "ok",
    );
    assert_eq!(actual, expected);
    assert_eq!(actual.len(), 64);
    assert!(
        actual
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
}

#[test]
fn encoding_is_unambiguous_and_time_is_microseconds_utc() {
    let at = datetime!(2025-03-01 09:00:00.123456 UTC);
    let h = |action: &str, object: &str, addr: Option<&str>, at: OffsetDateTime| {
        entry_hash(
            GENESIS_HASH,
            1,
            at,
            &Actor::System,
            action,
            object,
            None,
            addr,
            "",
        )
    };
    let base = h("ab", "c", None, at);
    assert_ne!(base, h("a", "bc", None, at), "field boundaries matter");
    assert_ne!(
        base,
        h("ab", "c", Some(""), at),
        "absent differs from empty"
    );
    assert_eq!(
        base,
        h("ab", "c", None, at + Duration::nanoseconds(999)),
        "sub-microsecond ignored"
    );
    assert_ne!(base, h("ab", "c", None, at + Duration::microseconds(1)));
    let same_instant = at.to_offset(time::macros::offset!(+1));
    assert_eq!(base, h("ab", "c", None, same_instant), "offset ignored");
    let stored = truncate_to_micros(datetime!(2025-03-01 10:00:00.123456789 +1));
    assert_eq!(stored, at);
    assert_eq!(stored.offset(), time::UtcOffset::UTC);
}

#[test]
fn actor_parts_round_trip() {
    let user = UserId::from_random([3; 16]);
    for actor in [
        Actor::Staff(user.clone()),
        Actor::Seat("seat-7".into()),
        Actor::System,
        Actor::ApiKey(crate::ApiKeyId::from_random([4; 16])),
    ] {
        assert_eq!(
            Actor::from_parts(actor.kind(), actor.id()),
            Ok(actor.clone())
        );
    }
    let long = "s".repeat(129);
    let bad: &[(&str, Option<&str>)] = &[
        ("staff", None),
        ("staff", Some("not-a-user-id")),
        ("seat", None),
        ("seat", Some("")),
        ("seat", Some("a\nb")),
        ("seat", Some(&long)),
        ("system", Some("x")),
        ("api_key", None),
        ("api_key", Some("not-a-key-id")),
        ("robot", None),
        ("", None),
    ];
    for &(kind, id) in bad {
        assert_eq!(
            Actor::from_parts(kind, id),
            Err(Error::InvalidActor),
            "{kind} {id:?}"
        );
    }
}
