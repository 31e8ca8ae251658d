-- identifier-too-long: PostgreSQL cuts names over 63 bytes without an error.

-- case: hazard: a quoted index name of 70 bytes (Prisma names indexes after their columns)
-- expect: identifier-too-long warning
CREATE INDEX "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" ON users (email);

-- case: hazard: an unquoted column name, upper case
-- expect: identifier-too-long
ALTER TABLE users ADD COLUMN AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA int;

-- case: hazard: a table and a constraint
-- expect: identifier-too-long
CREATE TABLE t_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (id int CONSTRAINT c_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa PRIMARY KEY);

-- case: hazard: a multibyte name cut at a character boundary (PostgreSQL keeps 62 bytes here)
-- expect: identifier-too-long
CREATE TABLE "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaééé" (id int);

-- case: safe form: exactly 63 bytes
-- expect: no identifier-too-long
CREATE INDEX "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" ON users (email);

-- case: false alarm: a long string constant is not a name
-- expect: no identifier-too-long
INSERT INTO users (bio) VALUES ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');

-- case: false alarm: a long name only in a comment
-- expect: no identifier-too-long
-- aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
SELECT 1;
