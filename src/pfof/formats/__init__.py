"""External formats: bytes in, typed records out, and back. Knows nothing of DuckDB."""
