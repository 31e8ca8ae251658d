-- advisory-unlock: releasing advisory locks can release stallmig's deploy lock, so that a second deploy runs beside this one; the deploy gate then rolls the migration back (or, outside one transaction, stops after it)

-- case: hazard 1
-- expect: advisory-unlock
SELECT pg_advisory_unlock_all();

-- case: hazard 2
-- expect: advisory-unlock
SELECT pg_catalog.pg_advisory_unlock(42);

-- case: hazard 3
-- expect: advisory-unlock
DO $$ BEGIN PERFORM 1; END $$; SELECT pg_advisory_unlock_shared(1);

-- case: safe form or not this rule 1
-- expect: no advisory-unlock
SELECT pg_advisory_xact_lock(42);

-- case: safe form or not this rule 2
-- expect: no advisory-unlock
SELECT pg_advisory_lock(42);

-- case: safe form or not this rule 3
-- expect: no advisory-unlock
CREATE FUNCTION f() RETURNS void LANGUAGE sql AS 'SELECT 1';
