"""Graph tables -> Neo4j: one published snapshot, one mode's writer, audit, reconcile, record."""
