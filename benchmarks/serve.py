"""``pfof serve`` under load: page latency with 20 concurrent clients on 127.0.0.1.

A store of generated Rule 606(a)(1) reports (``--brokers`` brokers x ``--quarters`` quarters,
written by :func:`pfof.sim.peer_disclosures.quarter_report` under generated broker names and
stored with :func:`pfof.ingest`, so the store is what ``pfof ingest`` makes) is served by
``pfof serve`` in its own process, as a user runs it. Each page is first loaded once (cold: the
store's comparison is computed at the first page that needs it), then ``--clients`` threads
send ``--requests`` requests in all, each thread over one keep-alive connection, cycling over
20 URLs per page (different broker picks, so the first request of each is drawn afresh).
It prints p50/p95 latency per page, the cold times, and last
``pfof_serve_p95_ms=<ms>``: the brokers page's p95 (target: at most 150 ms on 2 cores).

    python benchmarks/serve.py                       # 200 brokers x 12 quarters, 20 clients
    python benchmarks/serve.py --brokers 20 --quarters 4 --requests 400   # quick check
    python benchmarks/serve.py --store /tmp/bench.duckdb   # keep (or reuse) the store
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pfof
from pfof.formats.sec606 import write_606
from pfof.model.market_time import previous_quarter
from pfof.sim.peer_disclosures import BROKERS, quarter_report

HOST = "127.0.0.1"
START_TIMEOUT_S = 120
URLS_PER_PAGE = 20


def build_store(db: Path, brokers: int, quarters: int, seed: int = 0) -> float:
    """Generate and ingest the reports; returns the seconds it took."""
    started = time.perf_counter()
    periods = [(2026, 3)]
    while len(periods) < quarters:
        periods.append(previous_quarter(*periods[-1]))
    with tempfile.TemporaryDirectory(prefix="pfof-bench-606-") as tmp:
        folder = Path(tmp)
        for i in range(brokers):
            profile = replace(BROKERS[i % len(BROKERS)], name=f"Generated Broker {i:03d}")
            for year, quarter in periods:
                report = quarter_report(profile, year, quarter, seed)
                (folder / f"b{i:03d}_{year}Q{quarter}.xml").write_bytes(write_606(report))
        con = pfof.connect(db)
        try:
            summary = pfof.ingest([folder], con)
        finally:
            con.close()
    if summary.rejected:
        raise SystemExit(f"{len(summary.rejected)} generated reports rejected")
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def get(conn: http.client.HTTPConnection, url: str) -> tuple[int, bytes]:
    conn.request("GET", url)
    response = conn.getresponse()
    return response.status, response.read()


def wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"pfof serve exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            if get(conn, "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"pfof serve did not answer within {START_TIMEOUT_S} s")


def page_urls(port: int, rng: random.Random) -> dict[str, list[str]]:
    """Per page, the URLs the clients request (20 filter choices each)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    status, body = get(conn, "/brokers")
    assert status == 200, status
    keys = sorted(set(re.findall(r'<option value="([^"]+)"', body.decode())))
    brokers = [k for k in keys if not re.fullmatch(r"\d{4}Q[1-4]", k)]
    quarters = [k for k in keys if re.fullmatch(r"\d{4}Q[1-4]", k)]

    def pick() -> str:
        chosen = rng.sample(brokers, min(3, len(brokers)))
        query = "&".join(f"broker={quote(k)}" for k in chosen)
        if quarters and rng.random() < 0.5:
            query += f"&quarter={rng.choice(quarters)}"
        return query

    picks = [pick() for _ in range(URLS_PER_PAGE - 1)]
    return {
        "brokers": ["/brokers", *(f"/brokers?{q}" for q in picks)],
        "api_brokers": ["/api/brokers", *(f"/api/brokers?{q}" for q in picks)],
        "broker": [f"/brokers/{quote(k)}" for k in rng.sample(brokers, min(20, len(brokers)))],
        "reports": ["/reports"],
        "market_centers": ["/market-centers"],
        "overview": ["/"],
    }


def load(port: int, urls: dict[str, list[str]], clients: int, requests: int) -> dict:
    """Latencies (ms) per page of ``requests`` requests spread over ``clients`` threads."""
    plan = [(page, url) for page, page_list in urls.items() for url in page_list]
    # the brokers page is the one measured against the target: half of all requests
    brokers = [(p, u) for p, u in plan if p == "brokers"]
    plan = plan + brokers * max(1, (len(plan) - len(brokers)) // len(brokers))
    latencies: dict[str, list[float]] = {page: [] for page in urls}
    errors: list[str] = []
    lock = threading.Lock()
    per_client = max(1, requests // clients)

    def client(index: int) -> None:
        order = random.Random(index)
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        mine: list[tuple[str, float]] = []
        for _ in range(per_client):
            page, url = order.choice(plan)
            started = time.perf_counter()
            status, _ = get(conn, url)
            mine.append((page, (time.perf_counter() - started) * 1000))
            if status != 200:
                errors.append(f"{url}: {status}")
        conn.close()
        with lock:
            for page, ms in mine:
                latencies[page].append(ms)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, e.g. {errors[0]}")
    return {"latencies": latencies, "elapsed": elapsed, "requests": per_client * clients}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", type=int, default=200)
    parser.add_argument("--quarters", type=int, default=12)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--store", type=Path, help="store to use (built when absent)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pfof-bench-serve-") as tmp:
        db = args.store or Path(tmp) / "pfof.duckdb"
        if db.exists():
            print(f"store: {db} (reused)")
        else:
            seconds = build_store(db, args.brokers, args.quarters)
            print(f"store: {args.brokers} brokers x {args.quarters} quarters in {seconds:.1f} s")
        port = free_port()
        command = [str(Path(sys.executable).parent / "pfof"), "serve", "--db", str(db)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log = (Path(tmp) / "serve.log").open("wb")
        server = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until_up(port, server)
            rng = random.Random(0)
            conn = http.client.HTTPConnection(HOST, port, timeout=600)
            started = time.perf_counter()
            urls = page_urls(port, rng)  # the first /brokers computes the comparison
            first = (time.perf_counter() - started) * 1000
            print(f"cold: first /brokers (computes the store's comparison) {first:.0f} ms")
            for page, page_list in urls.items():
                started = time.perf_counter()
                status, _ = get(conn, page_list[-1])
                assert status == 200, (page, status)
                print(f"cold: {page:<15} {(time.perf_counter() - started) * 1000:8.1f} ms")
            result = load(port, urls, args.clients, args.requests)
        except BaseException:
            log.flush()
            print((Path(tmp) / "serve.log").read_text(errors="replace"), file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    rate = result["requests"] / result["elapsed"]
    print(
        f"{result['requests']} requests, {args.clients} clients, {result['elapsed']:.1f} s "
        f"({rate:.0f} requests/s)"
    )
    print(f"{'page':<15} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for page, values in result["latencies"].items():
        if values:
            p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
            print(f"{page:<15} {len(values):>8} {p50:8.1f} {p95:8.1f}")
    print(f"pfof_serve_p95_ms={percentile(result['latencies']['brokers'], 0.95):.1f}")


if __name__ == "__main__":
    main()
