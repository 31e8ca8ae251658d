-- domain-constraint: a new domain constraint is checked against every value of every column of that domain, under locks on their tables

-- case: hazard 1
-- expect: domain-constraint
ALTER DOMAIN email ADD CONSTRAINT has_at CHECK (VALUE LIKE '%@%');

-- case: safe form or not this rule 1
-- expect: no domain-constraint
ALTER DOMAIN email ADD CONSTRAINT has_at CHECK (VALUE LIKE '%@%') NOT VALID;

-- case: safe form or not this rule 2
-- expect: no domain-constraint
CREATE DOMAIN email AS text; ALTER DOMAIN email ADD CONSTRAINT has_at CHECK (VALUE LIKE '%@%');
