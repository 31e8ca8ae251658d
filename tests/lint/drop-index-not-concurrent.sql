-- drop-index-not-concurrent: DROP INDEX without CONCURRENTLY locks its table
-- (ACCESS EXCLUSIVE); it also counts for lock-timeout.

-- case: hazard: an index from before the run
-- expect: drop-index-not-concurrent warning
-- expect: lock-timeout warning
DROP INDEX users_email_idx;

-- case: hazard: Prisma's quoted, qualified form, several at once
-- expect: drop-index-not-concurrent
DROP INDEX IF EXISTS "public"."users_email_key", app.b;

-- case: hazard: an index created in this run on an existing table still locks users
-- expect: drop-index-not-concurrent
CREATE INDEX CONCURRENTLY users_bio_idx ON users (bio);
-- next file
SET LOCAL lock_timeout = '5s';
DROP INDEX users_bio_idx;

-- case: safe form: CONCURRENTLY, alone in its migration
-- expect: no drop-index-not-concurrent
-- expect: no lock-timeout
DROP INDEX CONCURRENTLY users_email_idx;

-- case: safe form: lock_timeout set satisfies lock-timeout, not this rule
-- expect: drop-index-not-concurrent
-- expect: no lock-timeout
SET LOCAL lock_timeout = '5s';
DROP INDEX users_email_idx;

-- case: false alarm: index on a table created in the same file
-- expect: no drop-index-not-concurrent
-- expect: no lock-timeout
CREATE TABLE stalls (id int, name text);
CREATE INDEX stalls_name_idx ON stalls (name);
DROP INDEX stalls_name_idx;

-- case: false alarm: index on a table created by an earlier file, schema-qualified
-- expect: no drop-index-not-concurrent
CREATE TABLE app.stalls (id int);
CREATE INDEX stalls_id_idx ON app.stalls (id);
-- next file
DROP INDEX app.stalls_id_idx;
