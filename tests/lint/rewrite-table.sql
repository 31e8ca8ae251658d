-- rewrite-table: the statement rewrites the whole table while holding an ACCESS EXCLUSIVE lock: no reads or writes until it ends

-- case: hazard 1
-- expect: rewrite-table
VACUUM FULL users;

-- case: hazard 2
-- expect: rewrite-table
CLUSTER users USING users_pkey;

-- case: hazard 3
-- expect: rewrite-table
ALTER TABLE users ALTER COLUMN bio TYPE jsonb USING bio::jsonb;

-- case: hazard 4
-- expect: rewrite-table
VACUUM (FULL, ANALYZE);

-- case: safe form or not this rule 1
-- expect: no rewrite-table
VACUUM users;

-- case: safe form or not this rule 2
-- expect: no rewrite-table
VACUUM ANALYZE users;

-- case: safe form or not this rule 3
-- expect: no rewrite-table
ALTER TABLE users ALTER COLUMN bio TYPE text;

-- case: safe form or not this rule 4
-- expect: no rewrite-table
CREATE TABLE users (id int); CLUSTER users USING i;
