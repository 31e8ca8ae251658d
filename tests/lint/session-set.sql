-- session-set: a session-level SET stays in force for every later statement of the session, not only this migration's transaction (stallrun resets it afterwards, but a copy of the file run elsewhere does not)

-- case: hazard 1
-- expect: session-set
SET statement_timeout = '1min'; CREATE TABLE a (id int);

-- case: hazard 2
-- expect: session-set
SET search_path TO app, public;

-- case: safe form or not this rule 1
-- expect: no session-set
SET LOCAL statement_timeout = '1min';

-- case: safe form or not this rule 2
-- expect: no session-set
SET lock_timeout = '1s';
CREATE INDEX CONCURRENTLY i ON users (bio);

-- case: safe form or not this rule 3
-- expect: no session-set
SHOW search_path;
