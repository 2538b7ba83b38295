"""The journey map: schema, loading, indexing, retrieval and answers."""
