-- The subject index ("who read this person's data") is built behind the
-- chain, in sorted runs: a random-key B-tree index written with every entry
-- cost one random page per entry, which made the subject index four fifths
-- of the cost of an audited read on SQLite. Runs are appended at the right
-- edge of audit_subject (a new run has a larger id than every other) and
-- merged level by level, like an LSM tree; see index.go.
CREATE TABLE audit_subject (
    run BIGINT NOT NULL,
    subject TEXT {{bytewise}} NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (run, subject, seq)
) {{withoutrowid}};
CREATE TABLE audit_subject_runs (
    id BIGINT PRIMARY KEY,
    level INTEGER NOT NULL,
    state TEXT NOT NULL,
    entries BIGINT NOT NULL,
    into_run BIGINT NOT NULL DEFAULT 0,
    cursor_subject TEXT {{bytewise}} NOT NULL DEFAULT '',
    cursor_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE audit_index_head (
    id INTEGER PRIMARY KEY,
    upto BIGINT NOT NULL,
    next_run BIGINT NOT NULL
);
-- Entries written before this migration become one run that is never
-- merged (level 99).
INSERT INTO audit_subject (run, subject, seq) SELECT 1, subject, seq FROM audit_log;
INSERT INTO audit_subject_runs (id, level, state, entries)
    SELECT 1, 99, 'live', (SELECT count(*) FROM audit_log) WHERE EXISTS (SELECT 1 FROM audit_log);
INSERT INTO audit_index_head (id, upto, next_run) SELECT 1, seq, 2 FROM audit_head WHERE id = 1;
DROP INDEX audit_log_subject;
