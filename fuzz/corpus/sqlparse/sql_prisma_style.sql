-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "bio" TEXT -- blåbær; not a statement end
);

/* outer /* nested; */ still comment */
CREATE FUNCTION touch() RETURNS trigger AS $body$
BEGIN
  NEW.updated := now(); RETURN NEW;
END;
$body$ LANGUAGE plpgsql;

SELECT E'it\'s; fine', "semi;colon" FROM "User"
