-- The population register. The current state of each person is one row of
-- persons; every earlier state is a snapshot in person_versions, so any past
-- state can be shown with who changed it, when and why.
CREATE TABLE persons (
    pin TEXT PRIMARY KEY,
    full_name TEXT NOT NULL,
    name_folded TEXT {{bytewise}} NOT NULL,
    given_folded TEXT {{bytewise}} NOT NULL,
    other_names TEXT NOT NULL DEFAULT '',
    birth_date TEXT {{bytewise}} NOT NULL,
    sex TEXT NOT NULL,
    ethnicity TEXT NOT NULL,
    religion TEXT NOT NULL DEFAULT '',
    nationality TEXT NOT NULL DEFAULT 'VNM',
    birthplace_commune TEXT NOT NULL DEFAULT '',
    birthplace_detail TEXT NOT NULL DEFAULT '',
    hometown TEXT NOT NULL DEFAULT '',
    perm_province TEXT NOT NULL,
    perm_commune TEXT {{bytewise}} NOT NULL,
    perm_detail TEXT NOT NULL DEFAULT '',
    perm_since TEXT NOT NULL DEFAULT '',
    temp_province TEXT NOT NULL DEFAULT '',
    temp_commune TEXT NOT NULL DEFAULT '',
    temp_detail TEXT NOT NULL DEFAULT '',
    temp_from TEXT NOT NULL DEFAULT '',
    temp_to TEXT NOT NULL DEFAULT '',
    household_id TEXT NOT NULL DEFAULT '',
    relation TEXT NOT NULL DEFAULT '',
    father_pin TEXT NOT NULL DEFAULT '',
    mother_pin TEXT NOT NULL DEFAULT '',
    spouse_pin TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'alive',
    death_date TEXT NOT NULL DEFAULT '',
    tax_code TEXT NOT NULL DEFAULT '',
    social_insurance_no TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    update_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX persons_name ON persons (name_folded, pin);
CREATE INDEX persons_given ON persons (given_folded, name_folded, pin);
CREATE INDEX persons_commune ON persons (perm_commune, name_folded, pin);
CREATE INDEX persons_birth ON persons (birth_date, name_folded, pin);
CREATE INDEX persons_household ON persons (household_id);

CREATE TABLE person_versions (
    pin TEXT NOT NULL,
    version INTEGER NOT NULL,
    snapshot TEXT NOT NULL,
    PRIMARY KEY (pin, version)
);

CREATE TABLE households (
    id TEXT PRIMARY KEY,
    head_pin TEXT NOT NULL,
    province TEXT NOT NULL,
    commune TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

CREATE TABLE residences (
    id {{autoinc}},
    pin TEXT NOT NULL,
    kind TEXT NOT NULL,
    province TEXT NOT NULL,
    commune TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    from_date TEXT NOT NULL,
    to_date TEXT NOT NULL DEFAULT '',
    event_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX residences_pin ON residences (pin, id);

CREATE TABLE life_events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    pin TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    registrar TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX life_events_pin ON life_events (pin, recorded_at);

CREATE TABLE pin_counters (
    prefix TEXT PRIMARY KEY,
    n BIGINT NOT NULL
);
