-- The citizen's documents (giấy tờ, kết quả): results the platform signed
-- and papers digitized at the desk, reusable in later dossiers. The bytes
-- are kept here as a blob for now, under a size cap the Go API enforces
-- (document.MaxSize). issue_date is a civil date in Vietnam (YYYY-MM-DD);
-- created_at an RFC 3339 UTC instant. verify_hash is the SHA-256 of the
-- short verification code printed on a result ('' for a document without
-- public verification); the code itself is never stored. layout is a
-- result's template data (JSON of result.Result), from which desks print
-- copies in bulk; '' for a digitized paper.
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    owner_pin TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    body {{blob}} NOT NULL,
    media_type TEXT NOT NULL,
    signed_by TEXT NOT NULL DEFAULT '',
    issuing_unit TEXT NOT NULL DEFAULT '',
    holder_name TEXT NOT NULL DEFAULT '',
    issue_date TEXT NOT NULL DEFAULT '',
    verify_hash TEXT NOT NULL DEFAULT '',
    layout TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX documents_owner ON documents (owner_pin, created_at);

-- Every check of a document on the public verification page: the time and
-- whether it answered genuine, never who asked (no address, no agent). The
-- document is named only for a genuine answer, so guesses leave no trace
-- of what was guessed.
CREATE TABLE document_scans (
    id {{autoinc}},
    document_id TEXT NOT NULL DEFAULT '',
    scanned_at TEXT NOT NULL,
    genuine INTEGER NOT NULL
);
CREATE INDEX document_scans_document ON document_scans (document_id, scanned_at);
