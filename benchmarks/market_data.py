"""Reading market data: pfof's readers against the bare decoding they stand on.

* Databento: ``read_quotes`` on an uncompressed ``mbp-1`` file of ``--records`` records (the
  shared NVDA sample's records repeated), against ``databento_dbn.DBNDecoder`` decoding the same
  bytes into Python records and nothing else.
* TAQ: ``read_quotes`` plus ``quotes_to_nbbo`` on ``sampleQDataRaw.parquet`` (131,401 venue
  quotes), against ``pyarrow.parquet.read_table`` of the same file.

Each ratio is pfof's time over its baseline's, best of ``--repeat`` runs, measured in this
run. The last line is ``dbn_read_quotes_vs_decode=<ratio>``.

    python benchmarks/market_data.py                 # 1 M DBN records
    python benchmarks/market_data.py --records 100000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import databento_dbn as dbn
import pyarrow.parquet as pq

from pfof.engine.nbbo import quotes_to_nbbo
from pfof.formats.market_data import read_quotes

SHARED = Path(os.environ.get("PFOF_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SAMPLES = SHARED / "real-quotes"


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def dbn_file(records: int, folder: Path) -> Path:
    """An uncompressed DBN file of ``records`` mbp-1 records (the sample's, repeated)."""
    sample = (SAMPLES / "databento" / "XNAS.ITCH_test_data.mbp-1.dbn.zst").read_bytes()
    decoded = dbn.DBNDecoder(compression=dbn.Compression.ZSTD).write_and_decode(sample)
    body = b"".join(bytes(r) for r in decoded[1:])
    path = folder / "nvda.mbp-1.dbn"
    path.write_bytes(decoded[0].encode() + body * (records // (len(decoded) - 1)))
    return path


def decode_only(path: Path) -> int:
    decoder = dbn.DBNDecoder()
    return len(decoder.write_and_decode(path.read_bytes()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = dbn_file(args.records, Path(tmp))
        base = best(lambda: decode_only(path), args.repeat)
        mine = best(lambda: read_quotes(path), args.repeat)
    taq = SAMPLES / "sampleQDataRaw.parquet"
    taq_base = best(lambda: pq.read_table(taq), args.repeat)
    taq_mine = best(lambda: quotes_to_nbbo(read_quotes(taq)), args.repeat)
    print(f"DBN decode only      {args.records:>9,} records  {base:7.3f} s")
    print(f"DBN read_quotes      {args.records:>9,} records  {mine:7.3f} s")
    print(f"TAQ parquet read       131,401 rows     {taq_base:7.3f} s")
    print(f"TAQ read + NBBO        131,401 rows     {taq_mine:7.3f} s")
    print(f"taq_read_quotes_and_nbbo_vs_parquet_read={taq_mine / taq_base:.2f}")
    print(f"dbn_read_quotes_vs_decode={mine / base:.2f}")


if __name__ == "__main__":
    main()
