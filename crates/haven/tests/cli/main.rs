//! Integration tests of the `haven` binary, run as a person would run it. Commands that touch
//! a database use a fresh one on the engine of this test run (SQLite, or PostgreSQL when
//! `HAVEN_TEST_DATABASE_URL` is set).

mod admin;
mod audit;
mod clinic;
mod config;
mod governance;
mod help;
mod serve;
mod support;
