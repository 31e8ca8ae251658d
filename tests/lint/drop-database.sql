-- drop-database: DROP DATABASE deletes a whole database with every table in it

-- case: hazard 1
-- expect: drop-database
DROP DATABASE legacy;

-- case: safe form or not this rule 1
-- expect: no drop-database
CREATE DATABASE legacy;
