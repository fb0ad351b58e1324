{{ graph_edge_select(
    from_relation=ref('stand_in_from_table'),
    to_relation=ref('stand_in_to_table'),
    via_relation=ref('stand_in_via_table')
) }}
