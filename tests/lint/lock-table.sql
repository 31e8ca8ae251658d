-- lock-table: LOCK TABLE holds a lock that blocks the application until the migration's transaction ends

-- case: hazard 1
-- expect: lock-table
LOCK TABLE users;

-- case: hazard 2
-- expect: lock-table
LOCK TABLE users IN SHARE MODE;

-- case: safe form or not this rule 1
-- expect: no lock-table
LOCK TABLE users IN ACCESS SHARE MODE;

-- case: safe form or not this rule 2
-- expect: no lock-table
CREATE TABLE users (id int); LOCK TABLE users;
