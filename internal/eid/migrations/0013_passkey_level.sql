-- The level a passkey may reach: the level of the session it was added in
-- (a level-2 account adds passkeys only from a level-2 session). A passkey
-- added while the account was level 1 stays level 1 after a registrar
-- activates level 2, so a passkey planted with a stolen password does not
-- become a level-2 factor; the citizen adds it again after activation.
ALTER TABLE eid_passkeys ADD COLUMN max_level INTEGER NOT NULL DEFAULT 1;
