-- One-time codes sent by text message to a patient's booked mobile number, where the
-- organisation's identity check asks for one: one row per attendee, holding only the hash
-- of the latest code (the worker draws a new code at each send). Times are UTC
-- microseconds since the Unix epoch.
CREATE TABLE identity_codes (
    attendee_id   TEXT PRIMARY KEY NOT NULL REFERENCES attendees (id),
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    -- NULL until the first code is sent.
    code_hash     TEXT,
    sent_at       BIGINT,
    expires_at    BIGINT,
    -- Wrong entries still allowed for the latest code; reaching 0 sets locked_at.
    attempts_left BIGINT NOT NULL,
    passed_at     BIGINT,
    locked_at     BIGINT,
    created_at    BIGINT NOT NULL
);

-- What a message carries: an invitation link, or a one-time code. Codes are counted by
-- their rows here for the limit on sends.
ALTER TABLE outbox ADD COLUMN purpose TEXT NOT NULL DEFAULT 'invite';
CREATE INDEX outbox_attendee_purpose ON outbox (attendee_id, purpose, created_at);
