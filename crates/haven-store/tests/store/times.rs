//! Times are stored as UTC microseconds since the Unix epoch, whatever the engine.

use haven_domain::audit::{Actor, truncate_to_micros};
use haven_domain::{OrgId, OrgName, OrgPolicy};
use haven_store::testing::fresh_database;
use sqlx::Row;
use time::macros::datetime;
use time::{OffsetDateTime, UtcOffset};

use crate::common::{connect, entry, id, verify_chain};

#[tokio::test]
async fn times_round_trip_as_utc_microseconds() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;

    let cases: [(&str, OffsetDateTime, OffsetDateTime, i64); 3] = [
        (
            "Nanosecond Trust",
            datetime!(2024-03-05 10:11:12.123_456_789 UTC),
            datetime!(2024-03-05 10:11:12.123_456 UTC),
            1_709_633_472_123_456,
        ),
        (
            "Offset Trust",
            // Another offset is the same instant, read back in UTC.
            datetime!(2024-03-05 11:11:12.123_456_789 +01:00),
            datetime!(2024-03-05 10:11:12.123_456 UTC),
            1_709_633_472_123_456,
        ),
        (
            "Old Trust",
            // Before 1970 the microseconds still round down, as the audit hash assumes.
            datetime!(1969-12-31 23:59:59.999_998_500 UTC),
            datetime!(1969-12-31 23:59:59.999_998 UTC),
            -2,
        ),
    ];
    for (name, written, expected, micros) in cases {
        let org = id(OrgId::from_random);
        let mut tx = store.begin().await.unwrap();
        tx.create_org(
            &org,
            &OrgName::parse(name).unwrap(),
            &OrgPolicy::default(),
            written,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let read = store.org(&org).await.unwrap().created_at;
        assert_eq!(read, expected, "{name}");
        assert_eq!(read, truncate_to_micros(written), "{name}");
        assert_eq!(read.offset(), UtcOffset::UTC, "{name}");

        // The column holds the plain count of microseconds.
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        let stored: i64 = sqlx::query("SELECT created_at FROM organisations WHERE id = $1")
            .bind(org.as_str().to_string())
            .fetch_one(&pool)
            .await
            .unwrap()
            .get(0);
        pool.close().await;
        assert_eq!(stored, micros, "{name}");
    }
}

#[tokio::test]
async fn an_audit_entry_written_with_nanoseconds_still_verifies() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let at = datetime!(2025-01-06 09:00:00.000_000_999 UTC);
    let mut tx = store.begin().await.unwrap();
    tx.audit(&entry(&Actor::System, "test.entry", "test:1", None), at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let record = &store.audit_page(0, 1).await.unwrap()[0];
    assert_eq!(record.at, datetime!(2025-01-06 09:00:00 UTC));
    assert_eq!(verify_chain(&store).await, Ok(1));
}
