-- Staff administration: a password an administrator set (a new account's,
-- a reset's) must be changed at the next sign-in before anything else;
-- the last successful sign-in is shown to administrators; who created
-- the account is kept for the record.
ALTER TABLE staff_accounts ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff_accounts ADD COLUMN last_sign_in TEXT NOT NULL DEFAULT '';
ALTER TABLE staff_accounts ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
