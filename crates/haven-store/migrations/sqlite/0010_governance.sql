-- Governance: when a consultation was first held, when its personal data was removed,
-- each organisation's retention periods, and the audit chain's checkpoint.

-- The first admission: a consultation is "held" from then on, for the national counts.
-- Kept on the consultation, which outlives its personal data and its journey steps.
ALTER TABLE consultations ADD COLUMN admitted_at BIGINT;
-- When the retention job removed the consultation's personal data; NULL while it is kept.
ALTER TABLE consultations ADD COLUMN personal_data_removed_at BIGINT;
UPDATE consultations SET admitted_at = (
    SELECT MIN(j.at) FROM journey_steps j JOIN attendees a ON a.id = j.attendee_id
    WHERE a.consultation_id = consultations.id AND j.step = 'admitted'
) WHERE status IN ('in_progress', 'ended');
CREATE INDEX consultations_admitted ON consultations (org_id, admitted_at);

-- Retention periods in days; an organisation without a row has the defaults.
CREATE TABLE retention_policies (
    org_id            TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    consultation_days BIGINT NOT NULL CHECK (consultation_days BETWEEN 30 AND 3650),
    chat_days         BIGINT NOT NULL CHECK (chat_days BETWEEN 1 AND 3650),
    journey_days      BIGINT NOT NULL CHECK (journey_days BETWEEN 30 AND 3650),
    audit_days        BIGINT NOT NULL CHECK (audit_days BETWEEN 365 AND 7300)
);

-- The last audit entry removed by retention (sequence number and hash): verification
-- starts from here, so what remains still verifies and tampering with it is still found.
CREATE TABLE audit_checkpoint (
    id   BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_checkpoint (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Entries up to the checkpoint may be deleted; every other entry stays append-only.
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq > (SELECT seq FROM audit_checkpoint WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- The checkpoint only moves forward, and only onto an entry that is in the log.
CREATE TRIGGER audit_checkpoint_forward BEFORE UPDATE ON audit_checkpoint
WHEN NEW.seq < OLD.seq OR NEW.id <> OLD.id
    OR NEW.hash IS NOT (SELECT hash FROM audit_log WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'the audit checkpoint only moves forward onto an entry of the log'); END;
CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'the audit checkpoint only moves forward onto an entry of the log'); END;
