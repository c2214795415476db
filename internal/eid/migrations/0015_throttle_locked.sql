-- eid_throttle takes the shape of internal/throttle's tables (shared with
-- the staff sign-in). Citizens' counters never lock; the column is there so
-- one mechanism serves both.
ALTER TABLE eid_throttle ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
