-- Group consultations (classes, support groups): the clinicians who host one, and what
-- is booked and chosen for each attendee. The consultation's own patient columns stay
-- NULL for a group: every attendee is a patient with details of their own.

-- The hosts of a group consultation: the booking clinician first, then any co-hosts;
-- any of them may run the call.
CREATE TABLE consultation_hosts (
    consultation_id TEXT NOT NULL REFERENCES consultations (id),
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    position        BIGINT NOT NULL,
    added_at        BIGINT NOT NULL,
    PRIMARY KEY (consultation_id, user_id)
);
CREATE INDEX consultation_hosts_user ON consultation_hosts (org_id, user_id);

-- Each group attendee's booked details (for the identity check, seen by hosts only) and
-- the name they chose to be shown to the other attendees on joining.
CREATE TABLE group_attendees (
    attendee_id     TEXT PRIMARY KEY NOT NULL REFERENCES attendees (id),
    consultation_id TEXT NOT NULL REFERENCES consultations (id),
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    -- The order in which they were booked (the order hosts see them in).
    position        BIGINT NOT NULL,
    dob             TEXT NOT NULL,
    nhs_number      TEXT,
    shown_name      TEXT
);
CREATE INDEX group_attendees_consultation ON group_attendees (consultation_id);
