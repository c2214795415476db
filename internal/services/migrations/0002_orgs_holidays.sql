-- A dossier filed for an organisation (issue 17): the organisation as the
-- e-ID's organisation accounts knew it when filed, and the role in which
-- the natural person (owner_pin, who filed) acted for it. All '' for a
-- dossier a person filed for themself.
ALTER TABLE dossiers ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN org_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN org_code TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN org_name TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN org_role TEXT NOT NULL DEFAULT '';
CREATE INDEX dossiers_org ON dossiers (org_id, submitted_at);

-- An administrator's list of days off and make-up working days for one
-- year (JSON of workday.Year, status "override"), in force instead of the
-- shipped or rule-computed year on every node.
CREATE TABLE holiday_overrides (
    year INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
