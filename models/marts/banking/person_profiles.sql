-- Built only while the banking sources it reads are switched on by their rows.
{{ config(
    enabled=c360_source_is_active('core_banking')
    and c360_source_is_active('payments')
) }}

-- The banking notebook's customer metrics (section 7), segment (7), risk
-- score (8) and cross-sell recommendations (9), one row per person.
with

persons as (

    select * from {{ ref('stg_core_banking__persons') }}

),

bank_accounts as (

    select * from {{ ref('stg_core_banking__bank_accounts') }}

),

transactions as (

    select * from {{ ref('stg_payments__transactions') }}

),

-- account types are free text in mixed case ('checking', 'CHECKING',
-- 'Savings'): the rules compare them upper(trim())ed
accounts_typed as (

    select
        account_id,
        owner_person_id,
        balance,
        upper(trim(account_type)) as account_type_code

    from bank_accounts

),

accounts_per_person as (

    select
        owner_person_id as person_id,
        count(*) as num_accounts,
        sum(balance) as total_balance,
        bool_or(account_type_code = 'INVESTMENT') as has_investment_account,
        bool_or(account_type_code = 'CREDIT_CARD') as has_credit_card,
        -- an account without a type is not a checking account
        bool_and(coalesce(account_type_code = 'CHECKING', false))
            as has_only_checking

    from accounts_typed

    where owner_person_id is not null

    group by owner_person_id

),

sent_per_person as (

    select
        accounts_typed.owner_person_id as person_id,
        count(*) as sent_count,
        sum(transactions.amount) as sent_volume,
        avg(transactions.amount) as avg_sent_amount,
        min(transactions.event_time) as first_sent_at,
        max(transactions.event_time) as last_sent_at

    from transactions

    inner join accounts_typed
        on transactions.from_account_id = accounts_typed.account_id

    group by accounts_typed.owner_person_id

),

received_per_person as (

    select
        accounts_typed.owner_person_id as person_id,
        count(*) as received_count,
        min(transactions.event_time) as first_received_at,
        max(transactions.event_time) as last_received_at

    from transactions

    inner join accounts_typed
        on transactions.to_account_id = accounts_typed.account_id

    group by accounts_typed.owner_person_id

),

-- the notebook's metrics: num_transactions is sent_count, total_volume
-- sent_volume, avg_transaction avg_sent_amount; sums and means skip null
-- amounts as pandas does
person_metrics as (

    select
        persons.person_id,
        coalesce(owned_accounts.num_accounts, 0) as num_accounts,
        coalesce(owned_accounts.total_balance, 0) as total_balance,
        coalesce(sent.sent_count, 0) as sent_count,
        coalesce(sent.sent_volume, 0) as sent_volume,
        -- 0 without sent transactions; null (pandas: NaN) when every sent
        -- amount is null
        case
            when sent.person_id is null then 0
            else sent.avg_sent_amount
        end as avg_sent_amount,
        coalesce(received.received_count, 0) as received_count,
        -- least and greatest skip nulls
        least(sent.first_sent_at, received.first_received_at)
            as first_transaction_at,
        greatest(sent.last_sent_at, received.last_received_at)
            as last_transaction_at,
        coalesce(owned_accounts.has_investment_account, false)
            as has_investment_account,
        coalesce(owned_accounts.has_credit_card, false) as has_credit_card,
        coalesce(owned_accounts.has_only_checking, false) as has_only_checking

    from persons

    left join accounts_per_person as owned_accounts
        on persons.person_id = owned_accounts.person_id

    left join sent_per_person as sent
        on persons.person_id = sent.person_id

    left join received_per_person as received
        on persons.person_id = received.person_id

),

-- section 7: the first segment whose test passes, strict >
segmented as (

    select
        *,
        case
            when total_balance > 100000 and sent_count > 50 then 'Premium'
            when total_balance > 50000 or sent_count > 30 then 'Gold'
            when total_balance > 10000 or sent_count > 10 then 'Silver'
            else 'Bronze'
        end as segment

    from person_metrics

),

-- section 8: points add up, strict >; the level from the total, >=
risk_scored as (

    select
        *,
        case when sent_volume > 100000 then 20 else 0 end
        + case when sent_count > 50 then 15 else 0 end
        + case when avg_sent_amount > 5000 then 10 else 0 end
        + case when num_accounts > 3 then 10 else 0 end as risk_points

    from segmented

),

risk_levelled as (

    select
        *,
        case
            when risk_points >= 40 then 'High'
            when risk_points >= 20 then 'Medium'
            else 'Low'
        end as risk_level

    from risk_scored

),

-- section 9: the recommendations that apply, in the notebook's order
cross_sell_recommended as (

    select
        *,
        array_remove(
            array[
                case
                    when total_balance > 50000 and not has_investment_account
                        then 'Investment Account'
                end,
                case
                    when sent_count > 30 and not has_credit_card
                        then 'Credit Card'
                end,
                case when has_only_checking then 'Savings Account' end
            ],
            null
        ) as recommendations

    from risk_levelled

),

final as (

    select
        person_id,
        num_accounts,
        cast(total_balance as numeric(15, 2)) as total_balance,
        sent_count,
        cast(sent_volume as numeric(15, 2)) as sent_volume,
        cast(avg_sent_amount as numeric(15, 2)) as avg_sent_amount,
        received_count,
        first_transaction_at,
        last_transaction_at,
        segment,
        risk_points,
        risk_level,
        -- null, not an empty list, when no recommendation applies
        nullif(recommendations, cast('{}' as text[])) as cross_sell

    from cross_sell_recommended

)

select * from final
