-- drop-schema: DROP SCHEMA removes the schema (with CASCADE, every table in it and their rows)

-- case: hazard 1
-- expect: drop-schema
DROP SCHEMA billing CASCADE;

-- case: safe form or not this rule 1
-- expect: no drop-schema
CREATE SCHEMA billing; DROP SCHEMA billing;
