//! Fresh databases for tests, on the engine the test run asks for.
//!
//! With `HAVEN_TEST_DATABASE_URL` unset, each test gets its own SQLite file in a temporary
//! folder. Set to a PostgreSQL server URL (as `scripts/test` does for its second run), each
//! test gets a database of its own on that server, so tests can run in parallel.

use std::path::PathBuf;

use rand::RngCore;

/// A database created for one test; a SQLite one is removed when this is dropped.
pub struct TestDatabase {
    /// The URL to connect to.
    pub url: String,
    folder: Option<PathBuf>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(folder) = &self.folder {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}

/// Creates an empty database for one test.
pub async fn fresh_database() -> TestDatabase {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    let name = format!("haven_test_{}", hex::encode(bytes));
    match std::env::var("HAVEN_TEST_DATABASE_URL") {
        Ok(server) if !server.is_empty() => {
            use sqlx::Connection;
            let mut admin = sqlx::PgConnection::connect(&server)
                .await
                .expect("HAVEN_TEST_DATABASE_URL must point at a running PostgreSQL server");
            // The name is ours: "haven_test_" and hex digits.
            let create = sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"));
            sqlx::Executor::execute(&mut admin, create)
                .await
                .expect("the test server lets us create databases");
            let mut url = url::Url::parse(&server).expect("HAVEN_TEST_DATABASE_URL is a URL");
            url.set_path(&name);
            TestDatabase {
                url: url.to_string(),
                folder: None,
            }
        }
        _ => {
            let folder = std::env::temp_dir().join(name);
            std::fs::create_dir_all(&folder).expect("the temporary folder is writable");
            let url = format!("sqlite://{}/haven.db?mode=rwc", folder.display());
            TestDatabase {
                url,
                folder: Some(folder),
            }
        }
    }
}
