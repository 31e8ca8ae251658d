-- seed.sql — deterministic test data for stallplass_dev (run by reset.lua).
-- Every value comes from generate_series arithmetic: the same rows every time,
-- so tests can assert on them. 120 users, 20 stables, 120 stalls, 90 listings,
-- 60 bookings.

-- 20 stable owners, then 100 riders, with the runbook's profile fields.
INSERT INTO "users" ("id", "email", "name", "role", "created_at", "updated_at",
                     "phone", "bio", "municipality")
SELECT format('user_%s', lpad(n::text, 3, '0')),
       format('%s%s@example.no', CASE WHEN n <= 20 THEN 'eier' ELSE 'rytter' END, n),
       (ARRAY['Ingrid', 'Ola', 'Kari', 'Lars', 'Sigrid', 'Nils', 'Astrid', 'Erik', 'Solveig', 'Knut'])[1 + n % 10]
         || ' ' || (ARRAY['Hansen', 'Johansen', 'Olsen', 'Larsen', 'Andersen', 'Berg', 'Haugen', 'Bakken'])[1 + n % 8],
       CASE WHEN n <= 20 THEN 'STABLE_OWNER' ELSE 'RIDER' END::"Role",
       timestamp '2024-01-01' + n * interval '1 day',
       timestamp '2024-03-01',
       format('+47 9%s', lpad((n * 7919 % 10000000)::text, 7, '0')),
       CASE WHEN n % 3 = 0 THEN 'Rider med hest i stall siden ' || (2000 + n % 24) END,
       (ARRAY['Oslo', 'Bergen', 'Trondheim', 'Stavanger', 'Tromsø', 'Bodø', 'Hamar', 'Lillehammer'])[1 + n % 8]
  FROM generate_series(1, 120) AS n;

-- 20 stables in Norwegian towns, one per owner.
INSERT INTO "stables" ("id", "owner_id", "name", "description", "town", "county",
                       "latitude", "longitude", "created_at", "updated_at")
SELECT format('stable_%s', lpad(n::text, 2, '0')),
       format('user_%s', lpad(n::text, 3, '0')),
       (ARRAY['Solbakken', 'Nordre', 'Fjellheim', 'Granly', 'Bjørkely', 'Søndre', 'Haugli', 'Elvetun', 'Lindheim', 'Åsgard'])[1 + n % 10]
         || ' ' || (ARRAY['Gård', 'Stall', 'Hestesenter', 'Rideskole'])[1 + n % 4],
       'Oppstalling med ' || (4 + n % 5) || ' bokser og ridebane.',
       t.town, t.county, t.lat + n * 0.001, t.lon - n * 0.001,
       timestamp '2024-01-15' + n * interval '1 day', timestamp '2024-03-01'
  FROM generate_series(1, 20) AS n
  JOIN (VALUES (0, 'Hamar', 'Innlandet', 60.79, 11.07), (1, 'Lillehammer', 'Innlandet', 61.12, 10.46),
               (2, 'Drammen', 'Buskerud', 59.74, 10.20), (3, 'Stavanger', 'Rogaland', 58.97, 5.73),
               (4, 'Trondheim', 'Trøndelag', 63.43, 10.39), (5, 'Tromsø', 'Troms', 69.65, 18.96),
               (6, 'Bergen', 'Vestland', 60.39, 5.32), (7, 'Kristiansand', 'Agder', 58.15, 8.00),
               (8, 'Ålesund', 'Møre og Romsdal', 62.47, 6.15), (9, 'Bodø', 'Nordland', 67.28, 14.40))
       AS t(k, town, county, lat, lon) ON t.k = n % 10;

-- 6 stalls per stable.
INSERT INTO "stalls" ("id", "stable_id", "label", "size", "has_paddock", "created_at")
SELECT format('stall_%s_%s', lpad(s::text, 2, '0'), b),
       format('stable_%s', lpad(s::text, 2, '0')),
       'Boks ' || b,
       (ARRAY['PONY', 'HORSE', 'HORSE', 'LARGE_HORSE'])[1 + (s + b) % 4]::"StallSize",
       (s + b) % 2 = 0,
       timestamp '2024-02-01' + (s * 6 + b) * interval '1 hour'
  FROM generate_series(1, 20) AS s, generate_series(1, 6) AS b;

-- 90 listings: the first 90 stalls in id order.
INSERT INTO "listings" ("id", "stall_id", "title", "monthly_price_nok", "available_from",
                        "status", "created_at", "updated_at")
SELECT format('listing_%s', lpad(n::text, 3, '0')), stall_id,
       'Ledig boks i ' || town || ' fra ' || to_char(date '2024-04-01' + n * 3, 'DD.MM.YYYY'),
       3000 + (n * 137) % 4000,
       date '2024-04-01' + n * 3,
       (ARRAY['DRAFT', 'PUBLISHED', 'PUBLISHED', 'RENTED', 'ARCHIVED'])[1 + n % 5]::"ListingStatus",
       timestamp '2024-03-01' + n * interval '2 hours', timestamp '2024-03-15'
  FROM (SELECT st."id" AS stall_id, sb."town", row_number() OVER (ORDER BY st."id")::int AS n
          FROM "stalls" st JOIN "stables" sb ON sb."id" = st."stable_id") AS numbered
 WHERE n <= 90;

-- 60 bookings by riders on published or rented listings (some listings twice).
INSERT INTO "bookings" ("id", "listing_id", "rider_id", "starts_on", "ends_on", "status", "created_at")
SELECT format('booking_%s', lpad(k::text, 3, '0')), listing_id,
       format('user_%s', lpad((21 + k % 100)::text, 3, '0')),
       available_from + k % 10,
       CASE WHEN k % 4 = 0 THEN NULL ELSE available_from + k % 10 + 30 * (1 + k % 6) END,
       (ARRAY['REQUESTED', 'CONFIRMED', 'CONFIRMED', 'CANCELLED'])[1 + k % 4]::"BookingStatus",
       timestamp '2024-03-20' + k * interval '3 hours'
  FROM (SELECT l."id" AS listing_id, l."available_from",
               (row_number() OVER (ORDER BY twice, l."id"))::int AS k
          FROM "listings" l CROSS JOIN generate_series(1, 2) AS twice
         WHERE l."status" IN ('PUBLISHED', 'RENTED')) AS slots
 WHERE k <= 60;
