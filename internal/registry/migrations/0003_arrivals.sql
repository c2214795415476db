-- A citizen's own application to be registered as arriving in a commune
-- (a move or a temporary residence there), filed signed in with the e-ID.
-- A registrar of that commune registers the arrival of a person from
-- outside the unit only on such an application (or the card read at the
-- desk); the act uses it up (used_event_id).
CREATE TABLE arrival_applications (
    id TEXT PRIMARY KEY,
    pin TEXT NOT NULL,
    kind TEXT NOT NULL,
    commune TEXT NOT NULL,
    filed_by TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    used_event_id TEXT NOT NULL DEFAULT '',
    used_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX arrival_applications_pin ON arrival_applications (pin, filed_at);

-- Where a move came from, so the unit a person left sees the departure
-- (Departures) after the person is no longer theirs to read.
ALTER TABLE life_events ADD COLUMN from_province TEXT NOT NULL DEFAULT '';
ALTER TABLE life_events ADD COLUMN from_commune TEXT NOT NULL DEFAULT '';
ALTER TABLE life_events ADD COLUMN evidence TEXT NOT NULL DEFAULT '';
CREATE INDEX life_events_from ON life_events (from_commune, recorded_at);
CREATE INDEX life_events_from_province ON life_events (from_province, recorded_at);
