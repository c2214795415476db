-- An administrator may disable a client: it then gets no token, sign-in
-- or refresh until enabled again; its registration is kept.
ALTER TABLE eid_oidc_clients ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
