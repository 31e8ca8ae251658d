-- set-not-null: after SET NOT NULL, running code that inserts without the column or writes NULL fails

-- case: hazard 1
-- expect: set-not-null
ALTER TABLE users ALTER COLUMN bio SET NOT NULL;

-- case: safe form or not this rule 1
-- expect: no set-not-null
CREATE TABLE users (bio text); ALTER TABLE users ALTER COLUMN bio SET NOT NULL;

-- case: safe form or not this rule 2
-- expect: no set-not-null
ALTER TABLE users ALTER COLUMN bio DROP NOT NULL;
