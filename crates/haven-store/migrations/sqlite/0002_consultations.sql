-- Consultations, their participants and invitation links, the outbox that delivers the
-- invitations, organisation API keys, and each attendee's journey. Times are UTC
-- microseconds since the Unix epoch; flags are BIGINT 0/1 (see 0001).

CREATE TABLE consultations (
    id               TEXT PRIMARY KEY NOT NULL,
    org_id           TEXT NOT NULL REFERENCES organisations (id),
    clinic_id        TEXT NOT NULL REFERENCES clinics (id),
    -- The clinician it is booked with, when one is; otherwise any clinician of the clinic.
    clinician_id     TEXT REFERENCES users (id),
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    starts_at        BIGINT NOT NULL,
    -- The patient as booked: what the clinician checks the patient's answers against.
    -- Both NULL for a colleague meeting, which has no patient.
    patient_name     TEXT,
    patient_dob      TEXT,
    nhs_number       TEXT,
    -- For a patient under 16: with_parent_or_guardian or alone_competent.
    child_attendance TEXT,
    -- Where the patient is during the call, noted by the clinician at admission for
    -- emergencies.
    patient_location TEXT,
    outcome          TEXT,
    outcome_note     TEXT,
    created_at       BIGINT NOT NULL,
    ended_at         BIGINT
);
CREATE INDEX consultations_clinic_day ON consultations (org_id, clinic_id, starts_at);

-- Everyone invited to a consultation (the patient first), with how to reach them.
CREATE TABLE attendees (
    id              TEXT PRIMARY KEY NOT NULL,
    consultation_id TEXT NOT NULL REFERENCES consultations (id),
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    role            TEXT NOT NULL,
    name            TEXT NOT NULL,
    mobile          TEXT,
    email           TEXT,
    contact         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    -- What the person entered on joining, for the clinician to compare with the booking.
    confirmed_name  TEXT,
    confirmed_dob   TEXT,
    confirmed_at    BIGINT
);
CREATE INDEX attendees_consultation ON attendees (consultation_id);

-- Invitation links. Only the SHA-256 of each token is kept; an attendee may hold several
-- live links (one per message sent), all of which die when the consultation ends.
CREATE TABLE invite_tokens (
    token_hash     TEXT PRIMARY KEY NOT NULL,
    attendee_id    TEXT NOT NULL REFERENCES attendees (id),
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX invite_tokens_attendee ON invite_tokens (attendee_id);

-- Invitations to deliver, and what became of them. The message is composed at send time
-- from the attendee and a new link: no link is ever stored.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    attendee_id     TEXT NOT NULL REFERENCES attendees (id),
    channel         TEXT NOT NULL,
    status          TEXT NOT NULL,
    reason          TEXT,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    provider_ref    TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_attendee ON outbox (attendee_id);
CREATE INDEX outbox_provider_ref ON outbox (provider_ref);

-- Keys for booking and GP systems; only the SHA-256 of each key is kept.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organisations (id),
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    UNIQUE (org_id, name)
);

-- Each step of each attendee's journey (link opened, check passed or failed, waiting,
-- admitted, media flowing, ended), for the funnel. No personal data: the detail is a
-- problem code such as camera_denied.
CREATE TABLE journey_steps (
    attendee_id    TEXT NOT NULL REFERENCES attendees (id),
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    clinic_id      TEXT NOT NULL REFERENCES clinics (id),
    step           TEXT NOT NULL,
    detail         TEXT,
    at             BIGINT NOT NULL
);
CREATE INDEX journey_steps_clinic ON journey_steps (org_id, clinic_id, at);
CREATE INDEX journey_steps_attendee ON journey_steps (attendee_id);
