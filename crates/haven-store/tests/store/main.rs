//! Integration tests of the store, run against SQLite and (with `HAVEN_TEST_DATABASE_URL`)
//! PostgreSQL. One binary: every module shares `common`.

mod common;
mod concurrency;
mod conflicts;
mod consultations;
mod crash;
mod governance;
mod groups;
mod identity_codes;
mod journey;
mod meetings;
mod notes;
mod outbox;
mod parity;
mod parity_auth;
mod record;
mod removals;
mod retention;
mod times;
mod waiting;
