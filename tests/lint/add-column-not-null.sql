-- add-column-not-null: ADD COLUMN ... NOT NULL without a default fails on a
-- table that holds a row. users exists before the run (the snapshot).

-- case: hazard: a required column on an existing table
-- expect: add-column-not-null error
ALTER TABLE users ADD COLUMN phone text NOT NULL;

-- case: hazard: PRIMARY KEY implies NOT NULL
-- expect: add-column-not-null error
ALTER TABLE users ADD COLUMN n int PRIMARY KEY;

-- case: hazard: Prisma's shape, quoted, in a later file of the run
-- expect: add-column-not-null error
CREATE TABLE "Stall" ("id" SERIAL NOT NULL, CONSTRAINT "Stall_pkey" PRIMARY KEY ("id"));
-- next file
ALTER TABLE "users" ADD COLUMN "stallId" INTEGER NOT NULL;

-- case: safe form: a constant default fills the rows
-- expect: no add-column-not-null
ALTER TABLE users ADD COLUMN phone text NOT NULL DEFAULT '';

-- case: safe form: nullable, backfilled, then SET NOT NULL
-- expect: no add-column-not-null
ALTER TABLE users ADD COLUMN phone text;
UPDATE users SET phone = '' WHERE phone IS NULL;
ALTER TABLE users ALTER COLUMN phone SET NOT NULL;

-- case: safe form: a serial or identity column fills itself
-- expect: no add-column-not-null
ALTER TABLE users ADD COLUMN n bigserial NOT NULL;
ALTER TABLE users ADD COLUMN m int GENERATED ALWAYS AS IDENTITY;

-- case: false alarm: table created earlier in the same file
-- expect: no add-column-not-null
CREATE TABLE stalls (id int);
ALTER TABLE stalls ADD COLUMN name text NOT NULL;

-- case: false alarm: table created by an earlier file of the run
-- expect: no add-column-not-null
CREATE TABLE stalls (id int);
-- next file
ALTER TABLE stalls ADD COLUMN name text NOT NULL;

-- case: false alarm: table emptied by DELETE without WHERE (that is its own error)
-- expect: no add-column-not-null
-- expect: delete-without-where error
DELETE FROM users;
ALTER TABLE users ADD COLUMN phone text NOT NULL;

-- case: false alarm: table emptied by TRUNCATE in an earlier file
-- expect: no add-column-not-null
TRUNCATE users;
-- next file
ALTER TABLE users ADD COLUMN phone text NOT NULL;

-- case: hazard: emptied, then rows inserted again
-- expect: add-column-not-null error
TRUNCATE users;
INSERT INTO users (id) VALUES (1);
ALTER TABLE users ADD COLUMN phone text NOT NULL;
