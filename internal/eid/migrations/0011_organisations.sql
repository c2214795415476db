-- Organisation accounts: companies (tax code) and agencies (budget unit
-- code). code is unique per kind.
CREATE TABLE eid_orgs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX eid_orgs_code ON eid_orgs (kind, code);
-- Who may act for an organisation: its legal representatives (role
-- 'representative', granted by a registrar or admin) and staff delegated by
-- a representative with a role and an expiry. A revocation closes a row; rows
-- are never deleted, so the history of who could act when stays.
CREATE TABLE eid_org_members (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    pin TEXT NOT NULL,
    role TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    expires_at TEXT NOT NULL DEFAULT '',
    revoked_at TEXT NOT NULL DEFAULT '',
    revoked_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX eid_org_members_pin ON eid_org_members (pin);
CREATE INDEX eid_org_members_org ON eid_org_members (org_id);
-- The organisation a citizen chose to act for in an OpenID sign-in, by
-- authorization request ('req:<id>') and then by refresh-token family
-- ('fam:<id>'); member_id '' records the choice to act as oneself.
CREATE TABLE eid_oidc_acting (
    key TEXT PRIMARY KEY,
    member_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
