-- Built only while the banking sources it reads are switched on by their rows.
{{ config(
    enabled=c360_source_is_active('core_banking')
    and c360_source_is_active('payments')
) }}

with

bank_accounts as (

    select * from {{ ref('stg_core_banking__bank_accounts') }}

),

transactions as (

    select * from {{ ref('stg_payments__transactions') }}

),

-- every account id a transaction names, on either side
transaction_accounts as (

    select from_account_id as account_id from transactions

    union

    select to_account_id as account_id from transactions

),

internal_accounts as (

    select
        account_id,
        owner_person_id,
        false as is_external

    from bank_accounts

),

-- counterparties no bank account has: they become BankAccount nodes too
external_accounts as (

    select
        transaction_accounts.account_id,
        cast(null as text) as owner_person_id,
        true as is_external

    from transaction_accounts

    left join bank_accounts
        on transaction_accounts.account_id = bank_accounts.account_id

    where
        transaction_accounts.account_id is not null
        and bank_accounts.account_id is null

),

unioned as (

    select * from internal_accounts

    union all

    select * from external_accounts

)

select * from unioned
