-- core_banking_db: the bank's core system of persons and their accounts.
-- The one place its tables and columns are written (sources/README.md): keep to plain
-- `create table` statements with unquoted names, which c360.samples.schema reads.

create table persons (
    person_id text primary key,
    first_name text,
    last_name text,
    -- PII: excluded by field_exclusion_rules, never leaves staging
    ssn text,
    date_of_birth date,
    risk_score double precision,
    flagged boolean,
    flag_reason text
);

create table bank_accounts (
    account_id text primary key,
    -- free text in mixed case: CHECKING, checking, Savings, INVESTMENT, CREDIT_CARD
    account_type text,
    account_status text,
    balance numeric(14, 2),
    open_date date,
    owner_person_id text references persons (person_id)
);
