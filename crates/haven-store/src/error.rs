use std::fmt;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be reached or opened; the URL has its password redacted.
    #[error("cannot open database {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The URL names an engine Haven does not support.
    #[error("unsupported database URL {0}: use sqlite:PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// The folder for the SQLite file could not be created.
    #[error("cannot create data folder {path}: {reason}")]
    DataFolder { path: String, reason: String },
    /// Applying the schema migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique value (an email address, a name) is already taken.
    #[error("{0} is already in use")]
    Conflict(&'static str),
    /// The row does not exist, or belongs to another organisation.
    #[error("not found")]
    NotFound,
    /// The change is not allowed in the row's current state; the text says why and is
    /// safe to show.
    #[error("{0}")]
    Refused(String),
    /// A stored value no longer parses; someone changed the database by hand.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl Error {
    pub(crate) fn connect(url: &str, e: impl fmt::Display) -> Error {
        Error::Connect {
            url: crate::redact_url(url),
            reason: e.to_string(),
        }
    }

    pub(crate) fn corrupt(what: &str, e: impl fmt::Display) -> Error {
        Error::Corrupt(format!("{what}: {e}"))
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        match e {
            sqlx::Error::RowNotFound => Error::NotFound,
            e => Error::Database(e),
        }
    }
}

/// Maps a unique-constraint violation to [`Error::Conflict`] naming `what`.
pub(crate) fn conflict(what: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict(what),
        _ => Error::from(e),
    }
}
