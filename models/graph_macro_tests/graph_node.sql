{{ graph_node_select(ref('stand_in_from_table')) }}
