-- The labels of the rows the finite_temporal test reports: the values
-- themselves (BC, after 9999) cannot reach Python to be compared.
with

failures as (

    {{ test_finite_temporal(
        model=ref('stand_in_from_table'),
        column_name='checked_value',
        data_type=var('c360_unit_test_data_type', 'timestamp with time zone')
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
