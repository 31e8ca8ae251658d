-- delete-without-where: a DELETE without WHERE deletes every row of the table

-- case: hazard 1
-- expect: delete-without-where
DELETE FROM bookings;

-- case: hazard 2
-- expect: delete-without-where
WITH x AS (SELECT 1) DELETE FROM bookings USING x;

-- case: hazard 3
-- expect: delete-without-where
WITH gone AS (DELETE FROM sessions RETURNING id) SELECT count(*) FROM gone;

-- case: safe form or not this rule 1
-- expect: no delete-without-where
DELETE FROM bookings WHERE id = 1;

-- case: safe form or not this rule 2
-- expect: no delete-without-where
CREATE TABLE bookings (id int); DELETE FROM bookings;
