{{ graph_node_select(
    ref('stand_in_from_table'),
    extension_relations=[ref('stand_in_via_table')]
) }}
