-- lock-timeout: a strong lock on an existing table with no lock_timeout set before it.

-- case: hazard 1
-- expect: lock-timeout
ALTER TABLE users ADD COLUMN phone text;

-- case: hazard 2
-- expect: lock-timeout
SET lock_timeout = 0; CREATE INDEX ON users (bio);

-- case: hazard 3
-- expect: lock-timeout
ALTER TABLE users ADD COLUMN phone text; SET LOCAL lock_timeout = '5s';

-- case: hazard 4
-- expect: lock-timeout
SET LOCAL lock_timeout = '5s';
CREATE INDEX CONCURRENTLY i ON users (bio);
DROP TABLE users;

-- case: quiet 1
-- expect: no lock-timeout
SET LOCAL lock_timeout = '5s'; ALTER TABLE users ADD COLUMN phone text;

-- case: quiet 2
-- expect: no lock-timeout
SET lock_timeout TO '2s'; DROP TABLE users;

-- case: quiet 3
-- expect: no lock-timeout
CREATE TABLE t (id int); ALTER TABLE t ADD COLUMN x int;

-- case: quiet 4
-- expect: no lock-timeout
CREATE INDEX CONCURRENTLY i ON users (bio);

-- case: quiet 5
-- expect: no lock-timeout
INSERT INTO users (id) VALUES (1);

-- case: hazard: DROP INDEX counts (an index from before the run)
-- expect: lock-timeout warning
DROP INDEX users_email_idx;

-- case: hazard: REINDEX without CONCURRENTLY counts
-- expect: lock-timeout
REINDEX TABLE users;

-- case: safe form: DROP INDEX CONCURRENTLY takes no strong lock
-- expect: no lock-timeout
DROP INDEX CONCURRENTLY users_email_idx;
