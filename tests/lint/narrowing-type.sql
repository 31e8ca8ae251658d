-- narrowing-type: ALTER COLUMN TYPE to a type that cannot hold every value.

-- case: hazard 1
-- expect: narrowing-type
ALTER TABLE users ALTER COLUMN email TYPE varchar(20);

-- case: quiet 1
-- expect: no narrowing-type
ALTER TABLE users ALTER COLUMN email TYPE text;

-- case: quiet 2
-- expect: no narrowing-type
ALTER TABLE users ALTER COLUMN id TYPE bigint;

-- case: quiet 3
-- expect: no narrowing-type
CREATE TABLE users (email text); ALTER TABLE users ALTER COLUMN email TYPE varchar(20);

-- case: quiet 4
-- expect: no narrowing-type
ALTER TABLE users ADD COLUMN nick text; ALTER TABLE users ALTER COLUMN nick TYPE varchar(5);

-- case: hazard: a column added earlier in the run and filled by UPDATE holds data
-- expect: narrowing-type error
ALTER TABLE users ADD COLUMN status text;
UPDATE users SET status = 'active';
-- next file
CREATE TYPE "Status" AS ENUM ('active', 'closed');
ALTER TABLE users ALTER COLUMN status TYPE "Status" USING status::"Status";

-- case: false alarm: a column added in the run and not filled holds nothing
-- expect: no narrowing-type
ALTER TABLE users ADD COLUMN status text;
-- next file
ALTER TABLE users ALTER COLUMN status TYPE varchar(5);
