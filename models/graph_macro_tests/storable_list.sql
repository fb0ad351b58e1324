-- The labels of the rows the storable_list test reports.
with

failures as (

    {{ test_storable_list(
        model=ref('stand_in_from_table'),
        column_name='checked_value'
    ) }}

),

checked_rows as (

    select * from {{ ref('stand_in_from_table') }}

)

select checked_rows.label
from checked_rows
where checked_rows.checked_value in (
    select failures.checked_value from failures
)
