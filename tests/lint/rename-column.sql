-- rename-column: running code that still uses the old column name fails as soon as the rename commits

-- case: hazard 1
-- expect: rename-column
ALTER TABLE users RENAME COLUMN bio TO about;

-- case: hazard 2
-- expect: rename-column
ALTER TABLE users RENAME bio TO about;

-- case: safe form or not this rule 1
-- expect: no rename-column
CREATE TABLE users (bio text); ALTER TABLE users RENAME COLUMN bio TO about;

-- case: safe form or not this rule 2
-- expect: no rename-column
ALTER TABLE users ADD COLUMN b text; ALTER TABLE users RENAME COLUMN b TO c;
