-- drop-table: DROP TABLE deletes the table and every row in it, and code still reading it fails

-- case: hazard 1
-- expect: drop-table
DROP TABLE users;

-- case: hazard 2
-- expect: drop-table
DROP TABLE IF EXISTS billing.invoices CASCADE;

-- case: safe form or not this rule 1
-- expect: no drop-table
CREATE TABLE users (id int); DROP TABLE users;

-- case: safe form or not this rule 2
-- expect: no drop-table
CREATE TABLE t (id int);
-- next file
DROP TABLE t;

-- case: safe form or not this rule 3
-- expect: no drop-table
DROP VIEW users;
