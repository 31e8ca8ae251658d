-- volatile-default: a volatile default (random(), clock_timestamp(), gen_random_uuid(), a serial) rewrites the whole table under an ACCESS EXCLUSIVE lock

-- case: hazard 1
-- expect: volatile-default
ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();

-- case: hazard 2
-- expect: volatile-default
ALTER TABLE users ADD COLUMN r float8 DEFAULT random();

-- case: hazard 3
-- expect: volatile-default
ALTER TABLE users ADD COLUMN seen timestamptz NOT NULL DEFAULT clock_timestamp();

-- case: hazard 4
-- expect: volatile-default
ALTER TABLE users ADD COLUMN n bigserial;

-- case: safe form or not this rule 1
-- expect: no volatile-default
ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();

-- case: safe form or not this rule 2
-- expect: no volatile-default
ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT current_timestamp;

-- case: safe form or not this rule 3
-- expect: no volatile-default
ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;

-- case: safe form or not this rule 4
-- expect: no volatile-default
CREATE TABLE users (id int); ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();
