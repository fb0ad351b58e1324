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

received as (

    select
        transactions.to_account_id as account_id,
        -- customers, not accounts: an unowned or external sender is not one
        count(distinct senders.owner_person_id) as distinct_senders,
        count(*) as received_count,
        -- null amounts skipped, 0 when every amount is null
        coalesce(sum(transactions.amount), 0) as received_amount

    from transactions

    left join bank_accounts as senders
        on transactions.from_account_id = senders.account_id

    where transactions.to_account_id is not null

    group by transactions.to_account_id

),

final as (

    select
        account_id,
        distinct_senders,
        received_count,
        cast(received_amount as numeric(15, 2)) as received_amount

    from received

)

select * from final
