-- What goes with a consultation into the patient's record besides the booking: agreements,
-- who was in the call and when, and chat the clinician chose to keep.

-- An agreement kept with the record (the implied consent on joining and a parent's
-- consent for a child follow from attendees.confirmed_at and the booking instead).
CREATE TABLE consents (
    consultation_id   TEXT NOT NULL REFERENCES consultations (id),
    org_id            TEXT NOT NULL REFERENCES organisations (id),
    -- Whose agreement it is: the patient, for a carer's presence.
    attendee_id       TEXT NOT NULL REFERENCES attendees (id),
    kind              TEXT NOT NULL,
    -- Whom it is about: the carer whose presence the patient agrees to.
    about_attendee_id TEXT REFERENCES attendees (id),
    -- The staff member who confirmed it; NULL when the person gave it themselves.
    confirmed_by      TEXT REFERENCES users (id),
    given_at          BIGINT NOT NULL
);
CREATE INDEX consents_consultation ON consents (consultation_id);

-- The attendance register: one row per stay of an admitted person in the call.
CREATE TABLE attendance (
    attendee_id     TEXT NOT NULL REFERENCES attendees (id),
    consultation_id TEXT NOT NULL REFERENCES consultations (id),
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    admitted_at     BIGINT NOT NULL,
    -- NULL while the stay lasts.
    left_at         BIGINT,
    PRIMARY KEY (attendee_id, admitted_at)
);
CREATE INDEX attendance_consultation ON attendance (consultation_id);

-- Chat is stored only when the clinician saves it to the record; otherwise it is
-- discarded when the call ends.
CREATE TABLE chat_messages (
    consultation_id    TEXT NOT NULL REFERENCES consultations (id),
    org_id             TEXT NOT NULL REFERENCES organisations (id),
    seq                BIGINT NOT NULL,
    -- Who sent it: an attendee, or a staff member who is not one (the clinician).
    sender_attendee_id TEXT REFERENCES attendees (id),
    sender_user_id     TEXT REFERENCES users (id),
    -- The name the others saw in the call.
    sender_name        TEXT NOT NULL,
    sent_at            BIGINT NOT NULL,
    body               TEXT NOT NULL,
    PRIMARY KEY (consultation_id, seq)
);
