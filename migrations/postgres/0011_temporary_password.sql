-- A password the secretariat issued (resetUserPassword, or `kitreview user
-- set-password --temporary`): it works until this time, and only to choose a
-- new one at sign-in. NULL when the password is the user's own.
ALTER TABLE users ADD COLUMN password_temporary_until TIMESTAMPTZ;
