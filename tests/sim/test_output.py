"""Output contract: canonical schemas, byte-identical files for a seed, day independence,
and the DuckDB loader (the ``pfof simulate`` command: tests/cli/test_cmd_simulate.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pfof.model.ground_truth import GROUND_TRUTH
from pfof.model.tables import CANONICAL
from pfof.sim.calendar import trading_sessions
from pfof.sim.config import SimConfig
from pfof.sim.day import DAY_TABLES, simulate_day
from pfof.sim.run import simulate
from pfof.sim.universe import build_universe
from pfof.store import layout


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_schemas_are_canonical(sim_market) -> None:
    schemas = {**CANONICAL, **GROUND_TRUTH}
    for name in DAY_TABLES:
        parts = layout.day_parts(sim_market.out, name)
        assert len(parts) == sim_market.config.days, name
        for p in parts.values():
            assert pq.read_schema(p / layout.PART_FILE).equals(schemas[name]), p
    for name in ("arrangements", "payments"):
        assert pq.read_schema(layout.table_file(sim_market.out, name)).equals(CANONICAL[name])


def test_same_seed_gives_identical_bytes(sim_market, tmp_path: Path) -> None:
    """The shared run again gives the same bytes; another seed (one day of it is enough to
    tell, hence the derived config) gives other quotes."""
    config = sim_market.config
    simulate(config, tmp_path / "again")
    a, b = _files(sim_market.out), _files(tmp_path / "again")
    # + arrangements, payments and (the market lists options) option_series
    assert a == b and len(a) == len(DAY_TABLES) * config.days + 3
    simulate(replace(config, seed=config.seed + 1, days=1), tmp_path / "other")
    quotes = str(layout.day_part(".", "quotes", config.start))
    assert (tmp_path / "other" / quotes).read_bytes() != a[quotes]


def test_days_are_independent_of_the_run_length(sim_market) -> None:
    """Day k of a run does not depend on how many days follow it (streaming by day): the
    first day of a one-day run (a derived config) equals that of the shared multi-day run."""
    short = replace(sim_market.config, days=1)
    s = trading_sessions(short.start, 1)[0]
    one = simulate_day(short, build_universe(short, s.day), s).tables
    assert sim_market.config.days > 1
    for name in DAY_TABLES:
        assert one[name].equals(sim_market.read_day(name, s.day)), name


def test_load_into_duckdb_is_idempotent(sim_market, tmp_path: Path) -> None:
    from pfof.store.canonical import load_parquet_dir

    db = tmp_path / "sim.duckdb"
    counts = load_parquet_dir(sim_market.out, db)
    again = load_parquet_dir(sim_market.out, db)
    assert "quotes" not in again  # days already loaded are skipped
    con = duckdb.connect(str(db))
    for name, n in counts.items():
        assert con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0] == n, name
    paid = con.execute("SELECT sum(amount) FROM payments").fetchall()[0][0]
    per_fill = con.execute("SELECT sum(pfof_usd) FROM fill_economics").fetchall()[0][0]
    assert paid == per_fill and paid != 0
    ns = con.execute("SELECT count(*) FROM quotes WHERE epoch_ns(ts) % 1000 <> 0").fetchall()
    assert ns[0][0] > 0  # nanoseconds survive
    con.close()


def test_demo_preset_is_one_broker_four_wholesalers_and_two_options_makers() -> None:
    from pfof.sim.market_centers import WHOLESALER_BY_ID

    cfg = SimConfig.demo()
    cfg.validate()
    (broker,) = cfg.brokers
    equity = [w for w in broker.wholesalers if WHOLESALER_BY_ID[w].equities]
    options_only = [w for w in broker.wholesalers if not WHOLESALER_BY_ID[w].equities]
    assert len(equity) == 4 and options_only == ["SIMG", "SIMH"]
    assert cfg.option_series > 0 and cfg.option_order_share > 0
    assert cfg.days >= 20


def test_invalid_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown exchange MIC"):
        replace(SimConfig(), exchanges=("XNYS", "NOPE")).validate()


def test_in_memory_day_equals_written_day(sim_market) -> None:
    from pfof.sim import day_tables

    tables = day_tables(sim_market.config, 1)
    for name in DAY_TABLES:
        written = sim_market.read_day(name, date(2026, 11, 30))
        assert written.equals(tables[name]), name


def test_simulated_firms_are_fictitious_and_say_so(sim_market) -> None:
    """No simulated broker or wholesaler can pass for a real firm: wholesaler MPIDs are SIM +
    a letter (none of the real MPIDs pfof knows), every firm's name ends in "(simulated)"."""
    from pfof.engine.generate606 import KNOWN_MPIDS
    from pfof.sim.market_centers import EXCHANGE_BY_MIC, WHOLESALERS
    from pfof.sim.peer_disclosures import BROKERS, VENUES

    assert all(w.mpid.startswith("SIM") and len(w.mpid) == 4 for w in WHOLESALERS)
    assert not {w.mpid for w in WHOLESALERS} & (set(KNOWN_MPIDS) | set(EXCHANGE_BY_MIC))
    names = [w.name for w in WHOLESALERS] + [b.name for b in BROKERS]
    names += [v.name for v in VENUES if v.wholesaler]
    names += [b.name for b in (*SimConfig().brokers, *SimConfig.demo().brokers)]
    assert all(n.endswith("(simulated)") for n in names), names
    written = set(sim_market.read("payments").column("broker").to_pylist())
    assert written == {b.name for b in sim_market.config.brokers}
    venues = set(sim_market.read_all("routes").column("venue").to_pylist())
    assert all(v in EXCHANGE_BY_MIC or v.startswith("SIM") for v in venues), venues
