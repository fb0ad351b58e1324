{{ test_dangling_rows(
    model=none,
    side=var('c360_unit_test_side', 'from'),
    from_relation=ref('stand_in_from_table'),
    to_relation=ref('stand_in_to_table'),
    via_relation=ref('stand_in_via_table')
) }}
