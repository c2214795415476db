-- The newest moves of the whole country (Departures for a national actor)
-- without scanning every life event.
CREATE INDEX life_events_kind ON life_events (kind, recorded_at);
