"""DuckDB store: schema, idempotent ingestion with provenance, queries returning Arrow."""
