-- partial-migration: the migration does not run as one transaction, so a failure part-way leaves it half-applied

-- case: hazard 1
-- expect: partial-migration
CREATE INDEX CONCURRENTLY i ON users (bio);
ALTER TABLE users ADD COLUMN phone text;

-- case: hazard 2
-- expect: partial-migration
BEGIN; CREATE TABLE a (id int); COMMIT; CREATE TABLE b (id int);

-- case: hazard 3
-- expect: partial-migration
-- stallmig:no-transaction
CREATE TABLE a (id int); CREATE TABLE b (id int);

-- case: safe form or not this rule 1
-- expect: no partial-migration
CREATE INDEX CONCURRENTLY i ON users (bio);

-- case: safe form or not this rule 2
-- expect: no partial-migration
BEGIN; CREATE TABLE a (id int); CREATE TABLE b (id int); COMMIT;

-- case: safe form or not this rule 3
-- expect: no partial-migration
CREATE TABLE a (id int); CREATE TABLE b (id int);
