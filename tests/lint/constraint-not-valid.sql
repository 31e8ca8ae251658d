-- constraint-not-valid: adding a FOREIGN KEY or CHECK without NOT VALID scans the whole table while holding a lock that blocks writes

-- case: hazard 1
-- expect: constraint-not-valid
ALTER TABLE bookings ADD CONSTRAINT bookings_user_fkey FOREIGN KEY (user_id) REFERENCES users (id);

-- case: hazard 2
-- expect: constraint-not-valid
ALTER TABLE bookings ADD CONSTRAINT positive CHECK (price > 0);

-- case: safe form or not this rule 1
-- expect: no constraint-not-valid
ALTER TABLE bookings ADD CONSTRAINT f FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;

-- case: safe form or not this rule 2
-- expect: no constraint-not-valid
ALTER TABLE bookings ADD CONSTRAINT positive CHECK (price > 0) NOT VALID;

-- case: safe form or not this rule 3
-- expect: no constraint-not-valid
ALTER TABLE bookings VALIDATE CONSTRAINT positive;

-- case: safe form or not this rule 4
-- expect: no constraint-not-valid
CREATE TABLE bookings (price int); ALTER TABLE bookings ADD CHECK (price > 0);
