-- Colleague meetings name their internal participants: an attendee may be a staff member,
-- who joins with their own sign-in (no invitation link) and waits to be admitted like
-- anyone else. NULL for people invited by link (patients, carers, interpreters).
ALTER TABLE attendees ADD COLUMN user_id TEXT REFERENCES users (id);
CREATE INDEX attendees_user ON attendees (user_id);

-- The organisation's limit on how long a consultation may run once it has started; a
-- warning goes to everyone five minutes before it ends by itself.
ALTER TABLE organisations ADD COLUMN consultation_limit_minutes BIGINT NOT NULL DEFAULT 90
    CHECK (consultation_limit_minutes BETWEEN 15 AND 240);
