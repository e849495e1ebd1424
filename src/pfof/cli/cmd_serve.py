"""``pfof serve``: the web dashboard over a store (FastAPI + Uvicorn, loaded when it runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

#: The store ``pfof demo`` writes, served when no ``--db`` is given.
DEMO_STORE = Path("pfof-demo") / "pfof.duckdb"


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root app."""
    app.command("serve")(serve_command)


def resolve_store(db: Path | None) -> Path:
    """The store to serve: ``db``, else ``./pfof-demo/pfof.duckdb``; an
    :class:`~pfof.errors.InputError` saying how to make one when there is none."""
    from pfof.errors import InputError

    if db is None:
        if DEMO_STORE.is_file():
            return DEMO_STORE
        raise InputError(
            f"no store to serve: {DEMO_STORE} does not exist; make one with `pfof demo` "
            "(simulated) or `pfof ingest REPORTS... --db pfof.duckdb`, then "
            "`pfof serve --db pfof.duckdb`"
        )
    if not db.is_file():
        raise InputError(f"{db}: no such store; run `pfof ingest REPORTS... --db {db}` first")
    return db


def serve_command(
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            help="DuckDB store to show (default: ./pfof-demo/pfof.duckdb, as `pfof demo` "
            "writes). Opened read-only.",
        ),
    ] = None,
    host: Annotated[
        str,
        typer.Option(help="Address to bind; the default serves this machine only."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8606,
) -> None:
    """Serve the web dashboard: brokers, venues, market centers, the simulated market and
    every 606 report in the SEC's layout, each page with its JSON and CSV.

    The store is opened read-only (stop the server before `pfof ingest` writes to it). Bind
    another --host only on a network you trust: the dashboard has no login.
    """
    import uvicorn
    from rich.console import Console
    from rich.markup import escape

    from pfof.web.server import create_app

    store = resolve_store(db)
    app = create_app(store)
    Console(stderr=True).print(
        f"pfof serve: {escape(str(store))} (read-only) at http://{escape(host)}:{port}/ "
        "- Ctrl-C stops it",
        soft_wrap=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
