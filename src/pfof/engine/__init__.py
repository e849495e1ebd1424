"""Engine kernels: Arrow/Polars/DuckDB in, Arrow/Polars out; no CLI, no web."""
