-- The one-stop desk (bộ phận một cửa): how a dossier came in, who received
-- it and who handles it, the officers' internal comments, and the signed
-- record of each paper the desk digitized.
--
-- channel is 'online' (filed through the portal or the API) or 'desk' (a
-- paper dossier received by received_by, a staff actor id). assignee is
-- the staff actor id of the officer handling it ('' when nobody is).
ALTER TABLE dossiers ADD COLUMN channel TEXT NOT NULL DEFAULT 'online';
ALTER TABLE dossiers ADD COLUMN received_by TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN assignee TEXT NOT NULL DEFAULT '';

-- An officer's internal note on a dossier: never shown to the filer.
CREATE TABLE dossier_comments (
    id {{autoinc}},
    code TEXT NOT NULL,
    at TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX dossier_comments_code ON dossier_comments (code, id);

-- A paper digitized at the desk: the stored document (documents.id), the
-- dossier and the procedure's document it answers, the officer and the
-- instant, the SHA-256 of the scan, and the platform's signature over that
-- record (signature, base64, by the certificate whose SHA-256 fingerprint
-- is signer).
CREATE TABLE dossier_digitizations (
    document_id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    document_code TEXT NOT NULL,
    officer TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    signer TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE INDEX dossier_digitizations_code ON dossier_digitizations (code, signed_at);
