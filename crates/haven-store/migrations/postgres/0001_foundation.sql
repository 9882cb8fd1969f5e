-- Foundation schema (PostgreSQL). Times are UTC microseconds since the Unix epoch (BIGINT);
-- booleans are BIGINT 0/1 so that both engines decode them the same way.

CREATE TABLE organisations (
    id                   TEXT PRIMARY KEY NOT NULL,
    name                 TEXT NOT NULL UNIQUE,
    created_at           BIGINT NOT NULL,
    mfa_required         BIGINT NOT NULL CHECK (mfa_required IN (0, 1)),
    recording_allowed    BIGINT NOT NULL CHECK (recording_allowed IN (0, 1)),
    file_sharing_allowed BIGINT NOT NULL CHECK (file_sharing_allowed IN (0, 1)),
    chat_retained        BIGINT NOT NULL CHECK (chat_retained IN (0, 1)),
    invite_lifetime      TEXT NOT NULL,
    identity_check       TEXT NOT NULL
);

CREATE TABLE clinics (
    id         TEXT PRIMARY KEY NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organisations (id),
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE users (
    id                   TEXT PRIMARY KEY NOT NULL,
    org_id               TEXT NOT NULL REFERENCES organisations (id),
    email                TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    roles                TEXT NOT NULL,
    password_hash        TEXT,
    must_change_password BIGINT NOT NULL CHECK (must_change_password IN (0, 1)),
    totp_secret          TEXT,
    totp_last_step       BIGINT,
    disabled             BIGINT NOT NULL CHECK (disabled IN (0, 1)),
    created_at           BIGINT NOT NULL
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE clinic_members (
    clinic_id TEXT NOT NULL REFERENCES clinics (id),
    user_id   TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (clinic_id, user_id)
);
CREATE INDEX clinic_members_user ON clinic_members (user_id);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id),
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    stage        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE sign_in_failures (
    throttle_key TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures (throttle_key, at);

CREATE TABLE one_time_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    purpose    TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY NOT NULL,
    at          BIGINT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT,
    action      TEXT NOT NULL,
    object      TEXT NOT NULL,
    org_id      TEXT,
    client_addr TEXT,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_org_at ON audit_log (org_id, at);

-- The newest entry's sequence number and hash, kept apart from the log so that deleting
-- the newest entries is detected, and locked by every append so the chain never forks.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: the application never updates or deletes audit entries. These triggers
-- stop accidents; `haven audit verify` catches anyone who removes them first.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
