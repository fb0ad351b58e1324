"""c360: unify siloed PostgreSQL databases into one Neo4j graph."""

__version__ = "0.1.0"
