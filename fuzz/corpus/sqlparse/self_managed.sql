BEGIN;
CREATE TABLE t (id int);
/* nested /* comment */ */ COMMIT;
