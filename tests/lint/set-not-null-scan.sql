-- set-not-null-scan: SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock

-- case: hazard 1
-- expect: set-not-null-scan
ALTER TABLE users ALTER COLUMN bio SET NOT NULL;

-- case: hazard 2
-- expect: set-not-null-scan
ALTER TABLE users ADD CONSTRAINT c CHECK (bio IS NOT NULL) NOT VALID; ALTER TABLE users ALTER COLUMN bio SET NOT NULL;

-- case: safe form or not this rule 1
-- expect: no set-not-null-scan
ALTER TABLE users ADD CONSTRAINT c CHECK (bio IS NOT NULL) NOT VALID; ALTER TABLE users VALIDATE CONSTRAINT c; ALTER TABLE users ALTER COLUMN bio SET NOT NULL;

-- case: safe form or not this rule 2
-- expect: no set-not-null-scan
ALTER TABLE users ADD CONSTRAINT c CHECK (bio IS NOT NULL);
-- next file
ALTER TABLE users ALTER COLUMN bio SET NOT NULL;

-- case: safe form or not this rule 3
-- expect: no set-not-null-scan
CREATE TABLE users (bio text); ALTER TABLE users ALTER COLUMN bio SET NOT NULL;
