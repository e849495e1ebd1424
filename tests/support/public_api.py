"""The names issue 7 requires ``import pfof`` to expose (checked by tests/api)."""

REQUIRED: frozenset[str] = frozenset(
    {
        "read_606",
        "validate_606",
        "write_606",
        "read_605",
        "validate_605",
        "connect",
        "ingest",
        "broker_quarters",
        "simulate",
        "measure_quality",
        "generate_606",
        "customer_report",
        "PfofError",
    }
)
