-- The card PKI's directory (internal/card/pki) mirrored into the database,
-- so every node reads one PKI and a new node needs no copied directory:
-- one row per file by its path under <data>/pki. Private keys are stored
-- as the directory holds them, sealed with the PKI key (--pki-key); the
-- mirror refuses a key in the clear. version grows with every change (one
-- writer at a time, under the "pki" lease); nodes poll max(version) and
-- write newer rows into their directory.
CREATE TABLE pki_files (
    path TEXT PRIMARY KEY,
    content {{blob}} NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX pki_files_version ON pki_files (version);
