-- transaction-block: a transaction block left open, nested, or holding a statement that refuses to run in one makes the migration fail or commit less than it seems

-- case: hazard 1
-- expect: transaction-block
BEGIN;
CREATE TABLE a (id int);

-- case: hazard 2
-- expect: transaction-block
BEGIN; BEGIN; CREATE TABLE a (id int); COMMIT;

-- case: hazard 3
-- expect: transaction-block
BEGIN;
CREATE INDEX CONCURRENTLY i ON users (bio);
COMMIT;

-- case: safe form or not this rule 1
-- expect: no transaction-block
BEGIN; CREATE TABLE a (id int); COMMIT;

-- case: safe form or not this rule 2
-- expect: no transaction-block
CREATE INDEX CONCURRENTLY i ON users (bio);

-- case: safe form or not this rule 3
-- expect: no transaction-block
BEGIN; CREATE TABLE a (id int); COMMIT; BEGIN; CREATE TABLE b (id int); COMMIT;
