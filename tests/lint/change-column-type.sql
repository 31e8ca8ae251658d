-- change-column-type: running code may not handle the new type, and the change holds an ACCESS EXCLUSIVE lock

-- case: hazard 1
-- expect: change-column-type
ALTER TABLE users ALTER COLUMN id TYPE bigint;

-- case: hazard 2
-- expect: change-column-type
ALTER TABLE users ALTER bio SET DATA TYPE varchar(10);

-- case: safe form or not this rule 1
-- expect: no change-column-type
CREATE TABLE users (id int); ALTER TABLE users ALTER COLUMN id TYPE bigint;
