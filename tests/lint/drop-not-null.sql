-- drop-not-null: after DROP NOT NULL the column can hold NULL, and running code that assumes a value breaks on the first one

-- case: hazard 1
-- expect: drop-not-null
ALTER TABLE users ALTER COLUMN bio DROP NOT NULL;

-- case: safe form or not this rule 1
-- expect: no drop-not-null
CREATE TABLE users (bio text NOT NULL); ALTER TABLE users ALTER COLUMN bio DROP NOT NULL;

-- case: safe form or not this rule 2
-- expect: no drop-not-null
ALTER TABLE users ALTER COLUMN bio SET NOT NULL;
