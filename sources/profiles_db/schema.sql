-- profiles_db: the modern accounts and billing microservice.
-- The one place its tables and columns are written (sources/README.md): keep to plain
-- `create table` statements with unquoted names, which c360.samples.schema reads.

create table accounts (
    account_id uuid primary key,
    email text not null unique,
    hashed_password text not null,
    full_name text,
    created_at timestamptz,
    -- set on every insert and update by a trigger the loader installs
    -- (c360.samples.load); staging reads the rows changed since its last build
    updated_at timestamptz not null
);

create table plans (
    plan_id serial primary key,
    plan_name text unique,
    monthly_fee numeric(5, 2),
    max_devices integer
);

create table payment_methods (
    payment_method_id uuid primary key,
    account_id uuid not null references accounts (account_id),
    card_fingerprint text,
    card_type text,
    card_last_four varchar(4),
    updated_at timestamptz not null,
    unique (account_id, card_fingerprint)
);

create table subscriptions (
    subscription_id uuid primary key,
    account_id uuid not null references accounts (account_id),
    plan_id integer not null references plans (plan_id),
    -- free text on purpose: the legacy writers use mixed casing ('active', 'Active')
    status text,
    starts_at timestamptz,
    renews_at timestamptz,
    updated_at timestamptz not null
);

create index payment_methods_account_id_idx on payment_methods (account_id);
create index payment_methods_card_fingerprint_idx on payment_methods (card_fingerprint);
create index subscriptions_account_id_idx on subscriptions (account_id);
-- what an incremental build asks for: the rows changed since a given time
create index accounts_updated_at_idx on accounts (updated_at);
create index payment_methods_updated_at_idx on payment_methods (updated_at);
create index subscriptions_updated_at_idx on subscriptions (updated_at);
