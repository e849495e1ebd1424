"""The audit page's uploads: a trades file and quote files, checked, then audited.

Limits are checked before anything is parsed: the request's declared length first (a body
larger than the limits is refused unread), then each file's size and type (its name's suffix
from a fixed list, and its first bytes: Parquet's magic number, or text for CSV). The trades
are audited from memory (:func:`pfof.app.audit.audit` reads bytes); the quote readers read
files, so each quote upload goes to a private temporary folder under a fixed name, deleted as
soon as the audit ends (Starlette itself spools a form part over 1 MB to a temporary file
while parsing, deleted with the request). Nothing is written to the store (it is open
read-only). The audit runs in a worker thread, so the server keeps answering while an upload
is checked or refused.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from pfof.errors import PfofError

if TYPE_CHECKING:
    from fastapi import Request

    from pfof.app.audit import AuditResult
    from pfof.web.dashboard import StoreView

__all__ = ["UploadError", "run_audit", "upload_limits"]

MAX_TRADES_BYTES = 5 * 1024 * 1024
MAX_QUOTES_BYTES = 50 * 1024 * 1024
MAX_QUOTE_FILES = 8
#: Room for the multipart framing and the small text fields.
_OVERHEAD = 64 * 1024
TRADES_SUFFIXES = (".csv", ".txt", ".parquet", ".pq")
QUOTES_SUFFIXES = (".csv", ".txt", ".parquet", ".pq", ".json", ".dbn", ".zst", ".gz")
_CHUNK = 1024 * 1024
MAX_SYMBOLS_TEXT = 20_000
_SYMBOL = re.compile(r"[A-Z][A-Z0-9.\-/]{0,11}")


class UploadError(PfofError):
    """An upload refused before auditing: too large, of the wrong type, or missing."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def upload_limits() -> dict[str, Any]:
    return {
        "trades_mb": MAX_TRADES_BYTES // (1024 * 1024),
        "quotes_mb": MAX_QUOTES_BYTES // (1024 * 1024),
        "quote_files": MAX_QUOTE_FILES,
        "trades_types": ", ".join(TRADES_SUFFIXES),
        "quotes_types": ", ".join(QUOTES_SUFFIXES),
    }


def _suffix(upload: UploadFile, allowed: tuple[str, ...], what: str) -> str:
    name = upload.filename or ""
    suffix = Path(name).suffix.lower()
    if suffix not in allowed:
        raise UploadError(
            f"{what} {name!r}: expected a file ending in {', '.join(allowed)}", status=415
        )
    return suffix


async def _read(upload: UploadFile, limit: int, what: str) -> bytes:
    """The upload's bytes, refused as soon as they pass ``limit``."""
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise UploadError(
                f"{what} {upload.filename!r} is larger than {limit // (1024 * 1024)} MB",
                status=413,
            )
        parts.append(chunk)
    data = b"".join(parts)
    if not data:
        raise UploadError(f"{what} {upload.filename!r} is empty")
    return data


def _check_content(data: bytes, suffix: str, name: str | None, what: str) -> None:
    if suffix in (".parquet", ".pq"):
        if not data.startswith(b"PAR1"):
            raise UploadError(f"{what} {name!r} is not a Parquet file", status=415)
    elif suffix in (".csv", ".txt", ".json"):
        head = data[:65536]
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            cut = len(data) > len(head) and exc.start >= len(head) - 3  # by the 64 kB window
            if not cut:
                raise UploadError(f"{what} {name!r} is not UTF-8 text", status=415) from None
        if b"\x00" in head:
            raise UploadError(f"{what} {name!r} is not text (NUL bytes)", status=415)


async def run_audit(request: Request, view: StoreView) -> AuditResult:
    """Check the request's uploads and audit them against the store's 606 reports."""
    declared = request.headers.get("content-length")
    ceiling = MAX_TRADES_BYTES + MAX_QUOTES_BYTES + _OVERHEAD
    if declared is not None and declared.isdigit() and int(declared) > ceiling:
        raise UploadError(
            f"upload of {int(declared) // (1024 * 1024)} MB refused: at most "
            f"{MAX_TRADES_BYTES // (1024 * 1024)} MB of trades and "
            f"{MAX_QUOTES_BYTES // (1024 * 1024)} MB of quotes",
            status=413,
        )
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UploadError("expected a multipart/form-data upload (the audit page's form)")
    async with request.form(max_files=MAX_QUOTE_FILES + 1, max_fields=8) as form:
        trades = form.get("trades")
        quotes = [q for q in form.getlist("quotes") if isinstance(q, UploadFile) and q.filename]
        if not isinstance(trades, UploadFile) or not trades.filename:
            raise UploadError("no trades file: choose one (CSV or Parquet, the trades template)")
        if not quotes:
            raise UploadError("no quote file: choose at least one market-data file")
        if len(quotes) > MAX_QUOTE_FILES:
            raise UploadError(f"at most {MAX_QUOTE_FILES} quote files")
        t_suffix = _suffix(trades, TRADES_SUFFIXES, "trades file")
        q_suffixes = [_suffix(q, QUOTES_SUFFIXES, "quote file") for q in quotes]
        trades_bytes = await _read(trades, MAX_TRADES_BYTES, "trades file")
        _check_content(trades_bytes, t_suffix, trades.filename, "trades file")
        quote_bytes = []
        budget = MAX_QUOTES_BYTES
        for q, suffix in zip(quotes, q_suffixes, strict=True):
            data = await _read(q, budget, "quote file")
            budget -= len(data)
            _check_content(data, suffix, q.filename, "quote file")
            quote_bytes.append((data, suffix))
        tz = _text(form.get("tz"))
        broker = _text(form.get("broker"))
        sp500 = _symbols(form.get("sp500"))
        name = Path(trades.filename).name
    if broker is not None and broker not in view.comparison().names.values():
        raise UploadError(f"broker {broker!r}: not a broker of the store")
    return await run_in_threadpool(_audit, view, trades_bytes, name, quote_bytes, tz, broker, sp500)


def _symbols(value: object) -> list[str] | None:
    """The S&P 500 symbols typed in the form (separated by spaces or commas), if any."""
    if not isinstance(value, str) or not value.strip():
        return None
    if len(value) > MAX_SYMBOLS_TEXT:
        raise UploadError(f"the S&P 500 list is longer than {MAX_SYMBOLS_TEXT} characters")
    symbols = [s.upper() for s in re.split(r"[\s,;]+", value.strip()) if s]
    bad = [s for s in symbols if not _SYMBOL.fullmatch(s)]
    if bad:
        raise UploadError(f"S&P 500 list: {bad[0]!r} is not a stock symbol")
    return symbols


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:100]
    return None


def _audit(
    view: StoreView,
    trades: bytes,
    name: str,
    quotes: list[tuple[bytes, str]],
    tz: str | None,
    broker: str | None,
    sp500: list[str] | None,
) -> AuditResult:
    from pfof.app.audit import audit

    has_606 = bool(view.comparison().names)
    with tempfile.TemporaryDirectory(prefix="pfof-audit-") as folder:
        paths = []
        for i, (data, suffix) in enumerate(quotes, start=1):
            path = Path(folder) / f"quotes-{i}{suffix}"
            path.write_bytes(data)
            paths.append(path)
        return audit(
            trades,
            paths,
            tz=tz,
            name=name,
            db=view.cursor() if has_606 else None,
            broker=broker,
            sp500=sp500,
        )
