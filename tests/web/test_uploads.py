"""The audit upload: it gives ``pfof.audit``'s numbers, refuses files too large or of the wrong
type with a clear message, writes nothing to the store, and the server keeps answering while
a bad upload is refused."""

from __future__ import annotations

import http.client
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import pfof
from pfof.app.audit import audit
from pfof.web.server import create_app
from pfof.web.uploads import MAX_QUOTES_BYTES, MAX_TRADES_BYTES
from support.web_uploads import QUOTES, trades_csv


def _files(trades: tuple[str, bytes], *quotes: tuple[str, bytes]) -> list[tuple[str, Any]]:
    return [("trades", (trades[0], trades[1], "text/csv"))] + [
        ("quotes", (name, data, "text/csv")) for name, data in quotes
    ]


@pytest.fixture(scope="module")
def client(real_store: Path) -> TestClient:
    return TestClient(create_app(real_store))


def test_uploaded_trades_give_the_audit_numbers_of_python(
    client: TestClient, tmp_path: Path, real_store: Path
) -> None:
    (tmp_path / "q.csv").write_bytes(QUOTES)
    con = pfof.connect(real_store, read_only=True)
    try:
        expected = audit(trades_csv(), [tmp_path / "q.csv"], name="t.csv", db=con).to_json()
    finally:
        con.close()
    response = client.post("/api/audit", files=_files(("t.csv", trades_csv()), ("q.csv", QUOTES)))
    assert response.status_code == 200, response.text
    assert response.json() == expected
    assert response.json()["summary"]["total_price_improvement_usd"] == "3.90"


def test_audit_page_shows_the_report_of_an_upload(client: TestClient) -> None:
    page = client.post("/audit", files=_files(("t.csv", trades_csv()), ("q.csv", QUOTES)))
    assert page.status_code == 200
    assert 'id="audit-trades"' in page.text and "T-2" in page.text
    assert "data:application/json;base64," in page.text


def test_upload_writes_nothing_to_the_store(client: TestClient, real_store: Path) -> None:
    before = real_store.stat().st_mtime_ns, real_store.stat().st_size
    client.post("/api/audit", files=_files(("t.csv", trades_csv()), ("q.csv", QUOTES)))
    assert (real_store.stat().st_mtime_ns, real_store.stat().st_size) == before


@pytest.mark.parametrize(
    ("files", "status", "words"),
    [
        ((("t.exe", b"MZ"), ("q.csv", QUOTES)), 415, "expected a file ending in .csv"),
        ((("t.parquet", b"trade_id\n"), ("q.csv", QUOTES)), 415, "is not a Parquet file"),
        ((("t.csv", b"\xff\xfe\x00a"), ("q.csv", QUOTES)), 415, "is not UTF-8 text"),
        ((("t.csv", b"x" * (MAX_TRADES_BYTES + 1)), ("q.csv", QUOTES)), 413, "larger than 5 MB"),
        ((("t.csv", b""), ("q.csv", QUOTES)), 400, "is empty"),
        ((("t.csv", b"a,b\n1,2\n"), ("q.csv", QUOTES)), 400, "missing required column"),
        ((("t.csv", trades_csv()), ("q.sh", b"rm -rf /")), 415, "quote file 'q.sh'"),
    ],
)
def test_bad_uploads_are_refused_with_a_clear_message(
    client: TestClient, files: tuple[tuple[str, bytes], ...], status: int, words: str
) -> None:
    response = client.post("/api/audit", files=_files(*files))
    assert response.status_code == status
    assert words in response.json()["error"]
    page = client.post("/audit", files=_files(*files))
    assert page.status_code == status and 'id="error"' in page.text


def test_upload_without_quotes_is_refused(client: TestClient) -> None:
    response = client.post("/api/audit", files=_files(("t.csv", trades_csv())))
    assert response.status_code == 400
    assert "no quote file" in response.json()["error"]


def test_server_keeps_answering_while_an_oversized_upload_is_refused(real_server: Any) -> None:
    """A client declares a body larger than the limits and sends it slowly: the server
    refuses it (413) without reading it, and answers other requests meanwhile."""
    host, port = "127.0.0.1", real_server.port
    declared = MAX_TRADES_BYTES + MAX_QUOTES_BYTES + 10 * 1024 * 1024
    uploader = http.client.HTTPConnection(host, port, timeout=10)
    uploader.putrequest("POST", "/api/audit")
    uploader.putheader("Content-Type", "multipart/form-data; boundary=xyz")
    uploader.putheader("Content-Length", str(declared))
    uploader.endheaders()
    uploader.send(b"--xyz\r\n" + b"x" * 65536)
    statuses: list[int] = []

    def ask() -> None:
        other = http.client.HTTPConnection(host, port, timeout=5)
        other.request("GET", "/healthz")
        statuses.append(other.getresponse().status)
        other.close()

    asker = threading.Thread(target=ask)
    asker.start()
    asker.join(timeout=5)
    assert statuses == [200]
    response = uploader.getresponse()
    assert response.status == 413
    assert b"refused" in response.read()
    uploader.close()


def test_sp500_symbols_typed_in_the_form_reach_the_audit(client: TestClient) -> None:
    files = _files(("t.csv", trades_csv()), ("q.csv", QUOTES))
    plain = client.post("/api/audit", files=files).json()
    listed = client.post("/api/audit", files=files, data={"sp500": "aapl, MSFT"}).json()
    assert any("section_assumed" in t["flags"] for t in plain["trades"])
    assert not any("section_assumed" in t["flags"] for t in listed["trades"])
    refused = client.post("/api/audit", files=files, data={"sp500": "AAPL <script>"})
    assert refused.status_code == 400 and "is not a stock symbol" in refused.json()["error"]
