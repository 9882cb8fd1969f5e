//! The audit log: append-only, hash-chained. Each entry's hash covers its content and the
//! previous entry's hash (see `haven_domain::audit`), so a changed, deleted or inserted row
//! breaks the chain where it happened.

use haven_domain::OrgId;
use haven_domain::audit::{Actor, AuditRecord, entry_hash};
use haven_domain::time::OffsetDateTime;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{Engine, Error, Result, Store, Tx, from_micros, to_micros};

/// One event to record.
#[derive(Debug)]
pub struct NewAudit<'a> {
    /// Who did it.
    pub actor: &'a Actor,
    /// What was done, e.g. `user.create`.
    pub action: &'a str,
    /// What it was done to, e.g. `user:<id>`; never personal data.
    pub object: &'a str,
    /// The organisation it concerns, if any.
    pub org_id: Option<&'a OrgId>,
    /// The client address the request came from, if any.
    pub client_addr: Option<&'a str>,
    /// Further detail, e.g. the policy fields changed; never personal data.
    pub detail: &'a str,
}

/// Which entries to list.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// Only this organisation's entries (`None`: all, for the command line).
    pub org_id: Option<OrgId>,
    /// Entries at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Entries before this time.
    pub until: Option<OffsetDateTime>,
    /// Entries by this actor id.
    pub actor_id: Option<String>,
    /// Entries whose action starts with this text.
    pub action_prefix: Option<String>,
}

const COLUMNS: &str =
    "seq, at, actor_kind, actor_id, action, object, org_id, client_addr, detail, prev_hash, hash";

fn record_from_row(row: &AnyRow) -> Result<AuditRecord> {
    let org_id: Option<String> = row.try_get("org_id")?;
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        at: from_micros(row.try_get("at")?),
        actor: Actor::from_parts(
            &row.try_get::<String, _>("actor_kind")?,
            row.try_get::<Option<String>, _>("actor_id")?.as_deref(),
        )
        .map_err(|e| Error::corrupt("audit actor", e))?,
        action: row.try_get("action")?,
        object: row.try_get("object")?,
        org_id: org_id
            .map(|o| OrgId::parse(&o))
            .transpose()
            .map_err(|e| Error::corrupt("org id", e))?,
        client_addr: row.try_get("client_addr")?,
        detail: row.try_get("detail")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

impl Tx {
    /// Appends an entry to the audit log as part of this transaction, so the entry exists
    /// exactly when the change it records does. Returns its sequence number.
    pub async fn audit(&mut self, entry: &NewAudit<'_>, now: OffsetDateTime) -> Result<i64> {
        // The head row is the chain's lock: PostgreSQL holds it until commit; SQLite's
        // IMMEDIATE transactions already run one writer at a time.
        let head_sql = match self.engine {
            Engine::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            Engine::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
        };
        let head = sqlx::query(head_sql).fetch_one(self.conn()).await?;
        let prev_seq: i64 = head.try_get(0)?;
        let prev_hash: String = head.try_get(1)?;
        let seq = prev_seq + 1;
        // The chain covers the stored (microsecond) time, so hash what will be read back.
        let at = from_micros(to_micros(now));
        let hash = entry_hash(
            &prev_hash,
            seq,
            at,
            entry.actor,
            entry.action,
            entry.object,
            entry.org_id,
            entry.client_addr,
            entry.detail,
        );
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )))
        .bind(seq)
        .bind(to_micros(at))
        .bind(entry.actor.kind())
        .bind(entry.actor.id().map(str::to_string))
        .bind(entry.action)
        .bind(entry.object)
        .bind(entry.org_id.map(|o| o.as_str().to_string()))
        .bind(entry.client_addr.map(str::to_string))
        .bind(entry.detail)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(self.conn())
        .await?;
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(&hash)
            .execute(self.conn())
            .await?;
        Ok(seq)
    }
}

impl Store {
    /// Entries matching `filter`, newest first, at most `limit` after skipping `offset`.
    pub async fn audit_entries(
        &self,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AuditRecord>> {
        let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        // Each filter adds one placeholder; the binds below follow the same order.
        if filter.org_id.is_some() {
            sql += &format!(" AND org_id = ${}", next());
        }
        if filter.from.is_some() {
            sql += &format!(" AND at >= ${}", next());
        }
        if filter.until.is_some() {
            sql += &format!(" AND at < ${}", next());
        }
        if filter.actor_id.is_some() {
            sql += &format!(" AND actor_id = ${}", next());
        }
        if filter.action_prefix.is_some() {
            sql += &format!(" AND substr(action, 1, ${}) = ${}", next(), next());
        }
        sql += &format!(" ORDER BY seq DESC LIMIT ${} OFFSET ${}", next(), next());
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(org) = &filter.org_id {
            query = query.bind(org.as_str().to_string());
        }
        if let Some(from) = filter.from {
            query = query.bind(to_micros(from));
        }
        if let Some(until) = filter.until {
            query = query.bind(to_micros(until));
        }
        if let Some(actor) = &filter.actor_id {
            query = query.bind(actor.clone());
        }
        if let Some(prefix) = &filter.action_prefix {
            // A 32-bit length: PostgreSQL has `substr(text, integer, integer)` but no
            // variant taking a bigint. No real prefix comes near the saturation point.
            let chars = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
            query = query.bind(chars).bind(prefix.clone());
        }
        let rows = query
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Every entry with `seq > after`, oldest first, at most `limit`: pages through the
    /// whole log for verification and export without holding it all in memory.
    pub async fn audit_page(&self, after: i64, limit: i64) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// The recorded newest entry (sequence number and hash).
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }
}
