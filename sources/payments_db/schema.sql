-- payments_db: the payment hub's transactions between accounts.
-- The one place its tables and columns are written (sources/README.md): keep to plain
-- `create table` statements with unquoted names, which c360.samples.schema reads.

create table transactions (
    transaction_id text primary key,
    amount numeric(14, 2),
    transaction_type text,
    event_time timestamptz,
    txn_date date,
    description text,
    -- accounts of core_banking_db: another database, so no foreign keys;
    -- to_account_id may name an external counterparty no bank account has
    from_account_id text,
    to_account_id text,
    suspicious_pattern text
);
