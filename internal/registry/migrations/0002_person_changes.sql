-- One row for each change of a person's row, written in the change's own
-- transaction, so that every node drops its in-memory copy of that person's
-- core (cores.go) within a poll interval.
CREATE TABLE person_changes (
    id {{autoinc}},
    pin TEXT NOT NULL
);
