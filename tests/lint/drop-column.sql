-- drop-column: DROP COLUMN deletes the column's values, and running code that reads or writes it fails

-- case: hazard 1
-- expect: drop-column
ALTER TABLE users DROP COLUMN bio;

-- case: hazard 2
-- expect: drop-column
ALTER TABLE users ADD COLUMN x int, DROP COLUMN bio;

-- case: safe form or not this rule 1
-- expect: no drop-column
CREATE TABLE users (id int, bio text); ALTER TABLE users DROP COLUMN bio;

-- case: safe form or not this rule 2
-- expect: no drop-column
ALTER TABLE users ADD COLUMN bio2 text; ALTER TABLE users DROP COLUMN bio2;
