//! Haven's storage: one API over two engines, SQLite (embedded, the default) and PostgreSQL.
//!
//! This is the only crate that contains SQL. It uses sqlx's `Any` driver so every query is
//! written once, in the dialect both engines share (`$1` placeholders, `BIGINT` times and
//! flags); schema migrations are kept per engine under `migrations/`.
//!
//! A tour:
//! - [`Store`] is a pool of connections. Reads take `&Store`; every change happens in a
//!   [`Tx`] (a database transaction) so that a change and the audit entry recording it are
//!   committed together or not at all.
//! - [`orgs`], [`users`], [`auth`], [`audit`], [`consultations`] (and its colleague
//!   meetings), [`clinician`], [`journey`], [`invites`], [`outbox`], [`identity_codes`],
//!   [`governance`] (the report's and national collections' counts), [`retention`],
//!   [`notes`] (a consultation's notes), [`deliveries`] (record bundles to post) and
//!   [`removals`] (people removed from a consultation)
//!   add methods to `Store` and `Tx` for one
//!   area each. Every read of organisation data takes the caller's [`OrgId`]: there is no
//!   query that can return another organisation's rows.
//! - Times are stored as UTC microseconds since the Unix epoch.

pub mod audit;
pub mod auth;
pub mod clinician;
pub mod consultations;
pub mod deliveries;
mod error;
pub mod governance;
pub mod groups;
pub mod identity_codes;
pub mod invites;
pub mod journey;
mod lease;
mod meetings;
pub mod notes;
pub mod orgs;
pub mod outbox;
pub mod record;
pub mod removals;
pub mod retention;
pub mod testing;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use haven_domain::time::OffsetDateTime;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, ConnectOptions, Executor};

pub use error::Error;

/// The result type of every store operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which database engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A pool of connections to Haven's database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
}

/// A database transaction. Dropping it without [`Tx::commit`] rolls everything back.
pub struct Tx {
    inner: sqlx::Transaction<'static, Any>,
    engine: Engine,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Store {
    /// Connects to the database at `url`, creating a SQLite file (and its folder) if needed,
    /// and applies any pending migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let engine = engine_of(url)?;
        if engine == Engine::Sqlite {
            prepare_sqlite_folder(url)?;
        }
        let options = AnyConnectOptions::from_str(url)
            .map_err(|e| Error::connect(url, e))?
            // Statements carry personal data in their parameters only, but keep sqlx quiet
            // anyway: the server logs what it does itself.
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(if engine == Engine::Sqlite { 4 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        // WAL: readers never block the writer, and a crash mid-write leaves
                        // the last committed state. synchronous=FULL makes a commit durable
                        // once it returns, which is what a clinical record needs.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await;
        let pool = match pool {
            Ok(pool) => pool,
            // The pool retries a refused connection until its timeout (the server may be
            // starting) and then says only that it timed out; one direct attempt says why.
            Err(sqlx::Error::PoolTimedOut) => {
                let reason = match options.connect().await {
                    Err(e) => e.to_string(),
                    Ok(_) => "timed out waiting for a connection".to_string(),
                };
                return Err(Error::connect(url, reason));
            }
            Err(e) => return Err(Error::connect(url, e)),
        };
        let migrator = match engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(Error::Migrate)?;
        Ok(Store { pool, engine })
    }

    /// The engine this store runs on.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Starts a transaction for a change.
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match self.engine {
            // IMMEDIATE takes SQLite's write lock at the start, so two writers queue
            // (busy_timeout) instead of one failing when it upgrades from reading.
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        };
        Ok(Tx {
            inner,
            engine: self.engine,
        })
    }

    /// Closes every connection; used at shutdown so SQLite checkpoints its WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool, for the modules of this crate.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

impl Tx {
    /// Makes every change of this transaction durable.
    pub async fn commit(self) -> Result<()> {
        self.inner.commit().await?;
        Ok(())
    }

    /// The connection of this transaction, for the modules of this crate.
    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.inner
    }
}

fn engine_of(url: &str) -> Result<Engine> {
    if url.starts_with("sqlite:") {
        Ok(Engine::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Engine::Postgres)
    } else {
        Err(Error::UnsupportedUrl(redact_url(url)))
    }
}

/// Creates the folder of a SQLite file URL, readable by this user only: it holds patient data.
fn prepare_sqlite_folder(url: &str) -> Result<()> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    let dir = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir.filter(|d| !d.exists()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::DataFolder {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    Ok(())
}

/// A database URL safe to print: the password, if any, is replaced.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // set_password only fails for URLs that cannot have one, and this one has one.
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

pub(crate) fn to_micros(t: OffsetDateTime) -> i64 {
    // Rounds down (not towards zero, which differs before 1970), as the audit hash and
    // `haven_domain::audit::truncate_to_micros` do. i128 nanoseconds fit i64 microseconds
    // for any date within ±292,000 years.
    t.unix_timestamp_nanos().div_euclid(1_000) as i64
}

pub(crate) fn from_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .expect("an i64 count of microseconds is always a representable time")
}
