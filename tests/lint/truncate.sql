-- truncate: TRUNCATE deletes every row at once, under an ACCESS EXCLUSIVE lock

-- case: hazard 1
-- expect: truncate
TRUNCATE bookings;

-- case: hazard 2
-- expect: truncate
TRUNCATE TABLE a, b RESTART IDENTITY;

-- case: safe form or not this rule 1
-- expect: no truncate
CREATE TABLE bookings (id int); TRUNCATE bookings;
