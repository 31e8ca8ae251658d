-- rename-table: running code that still uses the old table name fails as soon as the rename commits

-- case: hazard 1
-- expect: rename-table
ALTER TABLE users RENAME TO members;

-- case: safe form or not this rule 1
-- expect: no rename-table
CREATE TABLE users (id int); ALTER TABLE users RENAME TO members;

-- case: safe form or not this rule 2
-- expect: no rename-table
ALTER INDEX a RENAME TO b;
