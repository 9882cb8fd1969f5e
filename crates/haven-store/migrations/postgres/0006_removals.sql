-- People a clinician removed from a consultation: their links are revoked at the same
-- moment, and a later open of one of them says they were removed (rather than that the
-- link has expired) and whom to contact. A staff colleague who was removed cannot join
-- again with their sign-in.
CREATE TABLE attendee_removals (
    attendee_id     TEXT PRIMARY KEY NOT NULL REFERENCES attendees (id),
    consultation_id TEXT NOT NULL REFERENCES consultations (id),
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    removed_by      TEXT NOT NULL REFERENCES users (id),
    removed_at      BIGINT NOT NULL
);
CREATE INDEX attendee_removals_consultation ON attendee_removals (consultation_id);
