-- update-without-where: UPDATE with no WHERE overwrites every row (an
-- error); filling only columns added in this run overwrites nothing: a
-- full-table write (a warning about the lock and the duration).

-- case: hazard: existing values overwritten
-- expect: update-without-where error
UPDATE users SET bio = '';

-- case: hazard: in a data-modifying CTE
-- expect: update-without-where error
WITH u AS (UPDATE users SET bio = '' RETURNING id) INSERT INTO log SELECT id FROM u;

-- case: hazard: one new column and one existing column
-- expect: update-without-where error
ALTER TABLE users ADD COLUMN phone text;
UPDATE users SET phone = '', bio = '';

-- case: safe form: a WHERE clause
-- expect: no update-without-where
UPDATE users SET bio = '' WHERE bio IS NULL;

-- case: false alarm: filling a column added in the same file is a warning, not a loss
-- expect: update-without-where warning
ALTER TABLE users ADD COLUMN phone text;
UPDATE users SET phone = '';

-- case: false alarm: filling a column added by an earlier file of the run
-- expect: update-without-where warning
ALTER TABLE users ADD COLUMN "displayName" text;
-- next file
UPDATE "users" SET "displayName" = "email";

-- case: hazard: the second UPDATE of a filled column overwrites what the first wrote
-- expect: update-without-where error
ALTER TABLE users ADD COLUMN phone text;
UPDATE users SET phone = '';
-- next file
UPDATE users SET phone = 'x';

-- case: false alarm: a table created in the same file
-- expect: no update-without-where
CREATE TABLE stalls (name text); UPDATE stalls SET name = '';
