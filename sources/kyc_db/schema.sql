-- kyc_db: know-your-customer records, addresses and phones.
-- The one place its tables and columns are written (sources/README.md): keep to plain
-- `create table` statements with unquoted names, which c360.samples.schema reads.

create table addresses (
    address_id text primary key,
    street text,
    city text,
    state text,
    zip_code text,
    -- a person of core_banking_db: another database, so no foreign key
    person_id text
);

create table phones (
    phone_id text primary key,
    phone_number text,
    phone_type text,
    -- a person of core_banking_db: another database, so no foreign key
    person_id text
);
