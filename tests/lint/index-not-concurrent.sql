-- index-not-concurrent: building an index without CONCURRENTLY blocks every write to the table until it is built

-- case: hazard 1
-- expect: index-not-concurrent
CREATE INDEX users_email_idx ON users (email);

-- case: hazard 2
-- expect: index-not-concurrent
CREATE UNIQUE INDEX ON public.users (lower(email));

-- case: hazard 3
-- expect: index-not-concurrent
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);

-- case: hazard 4
-- expect: index-not-concurrent
ALTER TABLE users ADD PRIMARY KEY (id);

-- case: safe form or not this rule 1
-- expect: no index-not-concurrent
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);

-- case: safe form or not this rule 2
-- expect: no index-not-concurrent
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;

-- case: safe form or not this rule 3
-- expect: no index-not-concurrent
CREATE TABLE t (id int); CREATE INDEX ON t (id);

-- case: safe form or not this rule 4
-- expect: no index-not-concurrent
CREATE TABLE t (id int);
-- next file
CREATE INDEX ON t (id);
