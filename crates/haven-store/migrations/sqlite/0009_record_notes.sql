-- The clinician's notes on a consultation, and each patient's record bundle on its way to
-- the configured record system. Times are UTC microseconds since the Unix epoch.

-- One set of notes per consultation: a draft the clinician edits during and after the
-- call, then finished ("sent to the record"), after which it never changes.
CREATE TABLE consultation_notes (
    consultation_id TEXT PRIMARY KEY NOT NULL REFERENCES consultations (id),
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    body            TEXT NOT NULL,
    -- Who last saved the draft, and when.
    updated_by      TEXT NOT NULL REFERENCES users (id),
    updated_at      BIGINT NOT NULL,
    -- Who finished the notes, and when; NULL while they are a draft.
    finished_by     TEXT REFERENCES users (id),
    finished_at     BIGINT
);

-- One row per patient whose bundle is to be posted to the FHIR endpoint. The bundle is
-- built when it is sent, from the finished notes and the consultation's rows, so no copy
-- of the record waits here. Kept apart from the outbox, whose rows are messages to an
-- attendee's phone or inbox with their own channels and receipts.
CREATE TABLE record_deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    consultation_id TEXT NOT NULL REFERENCES consultations (id),
    -- The patient whose bundle this is.
    attendee_id     TEXT NOT NULL REFERENCES attendees (id),
    -- queued, delivered or failed.
    status          TEXT NOT NULL,
    -- Why the last try failed, or why it was given up; never any record content.
    reason          TEXT,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    -- Where the record system says it put the bundle (its Location header or id).
    location        TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX record_deliveries_due ON record_deliveries (status, next_attempt_at);
CREATE INDEX record_deliveries_consultation ON record_deliveries (org_id, consultation_id);
