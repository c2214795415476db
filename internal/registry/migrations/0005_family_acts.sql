-- Marriages (đăng ký kết hôn) and their end: a divorce or the death of a
-- spouse. persons.spouse_pin is the current spouse; this table is the
-- history. married_on is '' for a marriage loaded without its date.
CREATE TABLE marriages (
    id TEXT PRIMARY KEY,
    husband_pin TEXT NOT NULL,
    wife_pin TEXT NOT NULL,
    married_on TEXT NOT NULL DEFAULT '',
    ended_on TEXT NOT NULL DEFAULT '',
    end_kind TEXT NOT NULL DEFAULT '',
    event_id TEXT NOT NULL DEFAULT '',
    end_event_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX marriages_husband ON marriages (husband_pin, married_on);
CREATE INDEX marriages_wife ON marriages (wife_pin, married_on);

-- Who headed a household when: a change of head closes one row and opens
-- the next. from_date is '' for a head loaded without the day they became it.
CREATE TABLE household_heads (
    id {{autoinc}},
    household_id TEXT NOT NULL,
    head_pin TEXT NOT NULL,
    from_date TEXT NOT NULL DEFAULT '',
    to_date TEXT NOT NULL DEFAULT '',
    changed_by TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX household_heads_household ON household_heads (household_id, id);

-- What a registrar confirmed when registering a birth the register found
-- implausible or a possible duplicate (birth.go): space-separated flags.
ALTER TABLE persons ADD COLUMN birth_flags TEXT NOT NULL DEFAULT '';
-- The spouse named in a marriage or divorce event.
ALTER TABLE life_events ADD COLUMN other_pin TEXT NOT NULL DEFAULT '';
