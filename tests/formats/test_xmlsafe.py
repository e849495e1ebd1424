"""Secure parsing of untrusted 606 XML: DTDs, entities, network access and XInclude are refused.

Each attack document is otherwise a valid 606(a)(1) report, so the only reason to reject it is
the attack itself. Every entry point is tried (``validate_606``, ``read_606`` lenient and
strict, the streaming ``iter_a1_cells`` and, when present, ``pfof rule606 validate``) with every
kind of source (path, bytes, binary file). Refusal must name the rule; the secret must never
appear in any output; a local HTTP server proves no network request is made. Entity bombs run
in a child process with an address-space limit and a timeout, so a regression cannot take the
machine down.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from formats.conftest import PEAK_KB_SOURCE
from pfof.errors import InputError, Validation
from pfof.formats import sec606

ROOT = "heldOrderRoutingPublicReport"
BODY = "<version>1.2</version><bd>{bd}</bd><year>2020</year><qtr>1</qtr>" + "".join(
    f"<rMonthly><year>2020</year><mon>{m}</mon></rMonthly>" for m in (1, 2, 3)
)
REFUSAL = re.compile(r"DTD|DOCTYPE|document type|entit", re.IGNORECASE)


def report(bd: str, doctype: str = "", root_attrs: str = "") -> bytes:
    """A 606(a)(1) report with ``bd`` as the broker name, after an optional DOCTYPE."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n'
        f"<{ROOT}{root_attrs}>{BODY.format(bd=bd)}</{ROOT}>"
    ).encode()


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def secret(tmp_path: Path) -> tuple[Path, str]:
    """A file holding a unique marker; an XXE that worked would leak the marker."""
    marker = f"PFOF-SECRET-{uuid.uuid4().hex}"
    path = tmp_path / "secret.txt"
    path.write_text(marker)
    return path, marker


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = b'<!ENTITY leak "NETWORK-WAS-USED">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request: (base URL, hits)."""
    hits: list[str] = []
    handler = type("Handler", (_Recorder,), {"hits": hits})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------ entry points


def _as_source(kind: str, data: bytes, tmp_path: Path) -> object:
    if kind == "bytes":
        return data
    path = tmp_path / f"attack-{uuid.uuid4().hex}.xml"
    path.write_bytes(data)
    return path if kind == "path" else io.BytesIO(data)


def _drain_cells(source: object) -> object:
    return sum(1 for _ in sec606.iter_a1_cells(source))


ENTRY_POINTS: dict[str, Callable[[object], object]] = {
    "validate_606": lambda s: sec606.validate_606(s, strict=True),
    "read_606-lenient": lambda s: sec606.read_606(s),
    "read_606-strict": lambda s: sec606.read_606(s, strict=True),
    "iter_a1_cells": _drain_cells,
}


def refusal(entry: str, source: object) -> str:
    """Run an entry point on an attack; return its refusal text (fails if it accepted)."""
    call = ENTRY_POINTS[entry]
    try:
        result = call(source)
    except sec606.Rule606Error as exc:
        text = str(exc) + "\n" + "\n".join(f"{i.rule}: {i.message}" for i in exc.issues)
        return text
    if entry == "validate_606":
        assert isinstance(result, Validation) and not result.valid, f"{entry} accepted: {result}"
        return "\n".join(f"{i.rule}: {i.message} {i.path}" for i in result.errors)
    pytest.fail(f"{entry} accepted the document instead of refusing it: {result!r}")


def assert_refused(entry: str, source: object, *, leaks: tuple[str, ...] = ()) -> None:
    text = refusal(entry, source)
    assert REFUSAL.search(text), f"{entry}: the refusal does not name the rule: {text!r}"
    for leak in leaks:
        assert leak not in text, f"{entry}: leaked {leak!r} in {text!r}"


SOURCE_KINDS = ("path", "bytes", "stream")


# ------------------------------------------------------------------ XXE


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_xxe_file_read_is_refused(
    entry: str,
    kind: str,
    secret: tuple[Path, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, marker = secret
    doc = report("&x;", f'<!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "{path.as_uri()}">]>')
    assert_refused(entry, _as_source(kind, doc, tmp_path), leaks=(marker,))
    out = capsys.readouterr()
    assert marker not in out.out and marker not in out.err


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_xxe_etc_passwd_is_refused(entry: str, tmp_path: Path) -> None:
    doc = report("&x;", f'<!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "file:///etc/passwd">]>')
    assert_refused(entry, doc, leaks=("root:x:0:0", "/bin/"))


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_parameter_entity_is_refused(entry: str, secret: tuple[Path, str]) -> None:
    path, marker = secret
    doctype = f'<!DOCTYPE {ROOT} [<!ENTITY % p SYSTEM "{path.as_uri()}"> %p;]>'
    assert_refused(entry, report("B", doctype), leaks=(marker,))


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_network_entity_is_refused_without_a_request(
    entry: str, http_server: tuple[str, list[str]]
) -> None:
    base, hits = http_server
    doctype = (
        f'<!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "{base}/x">'
        f'<!ENTITY % d SYSTEM "{base}/evil.dtd"> %d;]>'
    )
    assert_refused(entry, report("&x;&leak;", doctype), leaks=("NETWORK-WAS-USED",))
    assert hits == [], f"{entry} fetched {hits}"


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_unreachable_network_entity_is_refused(entry: str) -> None:
    doc = report("&x;", f'<!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "http://127.0.0.1:9/">]>')
    assert_refused(entry, doc)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_external_dtd_is_not_fetched(entry: str, http_server: tuple[str, list[str]]) -> None:
    base, hits = http_server
    doc = report("&leak;", f'<!DOCTYPE {ROOT} SYSTEM "{base}/606.dtd">')
    assert_refused(entry, doc, leaks=("NETWORK-WAS-USED",))
    assert hits == [], f"{entry} fetched {hits}"


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_harmless_internal_dtd_is_refused_too(entry: str) -> None:
    """Even a DTD with one plain internal entity is refused: 606 XML never needs one."""
    assert_refused(entry, report("&b;", f'<!DOCTYPE {ROOT} [<!ENTITY b "B. Roker">]>'))


# The prolog check must not be fooled by what may legally precede a DOCTYPE.
DISGUISES = {
    "utf8-bom": lambda d: b"\xef\xbb\xbf" + d,
    "utf16-le-bom": lambda d: d.decode().replace("UTF-8", "UTF-16").encode("utf-16"),
    "utf16-be-bom": lambda d: (
        b"\xfe\xff" + d.decode().replace("UTF-8", "UTF-16").encode("utf-16-be")
    ),
    "no-declaration": lambda d: d.split(b"\n", 1)[1],
    "comment-and-pi-first": lambda d: d.replace(
        b"?>\n", b'?>\n<!-- <root> "?> --><?pi <x> ?>\n', 1
    ),
    "whitespace-first-lines": lambda d: d.replace(b"?>\n", b"?>\n\n\t \r\n", 1),
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("disguise", list(DISGUISES))
def test_doctype_after_legal_prolog_is_refused(
    entry: str, disguise: str, secret: tuple[Path, str]
) -> None:
    path, marker = secret
    doc = DISGUISES[disguise](
        report("&x;", f'<!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "{path.as_uri()}">]>')
    )
    assert_refused(entry, doc, leaks=(marker,))


# ------------------------------------------------------------------ XInclude


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_xinclude_is_not_processed(entry: str, secret: tuple[Path, str]) -> None:
    path, marker = secret
    include = f'<xi:include href="{path.as_uri()}" parse="text"/>'
    doc = report(include, root_attrs=' xmlns:xi="http://www.w3.org/2001/XInclude"')
    if entry == "validate_606":
        issues = sec606.validate_606(doc, strict=True).errors
        assert issues, "an unprocessed xi:include inside <bd> is a schema violation"
        assert all(marker not in f"{i.message} {i.path}" for i in issues)
        return
    if entry == "iter_a1_cells":
        # a streaming reader may skip header checks, but must never leak the file
        try:
            cells = list(sec606.iter_a1_cells(doc))
        except sec606.Rule606Error as exc:
            assert marker not in str(exc)
        else:
            assert all(marker not in repr(cell) for cell in cells)
        return
    with pytest.raises(sec606.Rule606Error) as caught:
        ENTRY_POINTS[entry](doc)
    assert marker not in str(caught.value)


# ------------------------------------------------------------------ entity bombs, in a child

BILLION_LAUGHS = (
    f'<!DOCTYPE {ROOT} [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def quadratic_doctype() -> str:
    return f'<!DOCTYPE {ROOT} [<!ENTITY a "{"A" * 100_000}">]>'


BOMBS = {
    "billion-laughs": lambda: report("&lol9;", BILLION_LAUGHS),
    "quadratic-blowup": lambda: report("&a;" * 20_000, quadratic_doctype()),
}

CHILD = PEAK_KB_SOURCE + textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (4096 * 2**20, 4096 * 2**20))
    from pfof.formats import sec606
    entry, path = sys.argv[1], sys.argv[2]
    calls = {
        "validate_606": lambda: sec606.validate_606(path, strict=True).errors,
        "read_606-lenient": lambda: sec606.read_606(path),
        "read_606-strict": lambda: sec606.read_606(path, strict=True),
        "iter_a1_cells": lambda: sum(1 for _ in sec606.iter_a1_cells(path)),
    }
    try:
        result = calls[entry]()
    except sec606.Rule606Error as exc:
        text = str(exc) + " " + " ".join(i.rule + ": " + i.message for i in exc.issues)
        print(json.dumps({"refused": True, "text": text[:2000]}))
    else:
        if isinstance(result, list) and result:
            text = " ".join(i.rule + ": " + i.message for i in result)
            print(json.dumps({"refused": True, "text": text[:2000]}))
        else:
            print(json.dumps({"refused": False, "text": repr(result)[:2000]}))
    print(json.dumps({"maxrss_kb": peak_kb()}))
    """
)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("bomb", list(BOMBS))
def test_entity_bomb_is_refused(entry: str, bomb: str, tmp_path: Path) -> None:
    path = tmp_path / f"{bomb}.xml"
    path.write_bytes(BOMBS[bomb]())
    done = subprocess.run(
        [sys.executable, "-c", CHILD, entry, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{entry} on {bomb} crashed: {done.stderr[-2000:]}"
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    outcome, usage = lines[0], lines[-1]
    assert outcome["refused"], f"{entry} accepted the {bomb}: {outcome['text']}"
    assert REFUSAL.search(outcome["text"]), outcome["text"]
    assert "lollol" not in outcome["text"] and "AAAAAAAAAA" not in outcome["text"]
    # nothing was expanded: the child stayed near an interpreter's footprint
    assert usage["maxrss_kb"] < 400 * 1024, usage


# ------------------------------------------------------------------ the CLI


def _cli_validate_available() -> bool:
    from typer.testing import CliRunner

    from pfof.cli import app

    done = CliRunner().invoke(app, ["rule606", "validate", "--help"])
    return done.exit_code == 0


CLI = "import sys; from pfof.cli import main; sys.argv[0] = 'pfof'; main()"


@pytest.mark.parametrize("attack", ["xxe", "billion-laughs", "external-dtd"])
def test_cli_validate_refuses_the_attack_naming_the_file_without_leaking(
    attack: str, tmp_path: Path, secret: tuple[Path, str], http_server: tuple[str, list[str]]
) -> None:
    if not _cli_validate_available():
        pytest.skip("`pfof rule606 validate` is not registered yet")
    path, marker = secret
    base, hits = http_server
    docs = {
        "xxe": report("&x;", f'<!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "{path.as_uri()}">]>'),
        "billion-laughs": BOMBS["billion-laughs"](),
        "external-dtd": report("B", f'<!DOCTYPE {ROOT} SYSTEM "{base}/606.dtd">'),
    }
    target = tmp_path / f"{attack}.xml"
    target.write_bytes(docs[attack])
    done = subprocess.run(
        [sys.executable, "-c", CLI, "rule606", "validate", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert REFUSAL.search(output), output
    assert str(target.name) in output, "the message names the file"
    assert marker not in output and "lollol" not in output
    assert hits == []


# ------------------------------------------------------------------ the shared secure parser


@pytest.mark.parametrize("disguise", ["plain", *DISGUISES])
def test_xmlsafe_parse_bytes_refuses_doctype(disguise: str, secret: tuple[Path, str]) -> None:
    """``xmlsafe.parse_bytes`` (used for whole small documents, e.g. ``validate_606``'s
    ``xsd`` check) refuses a DTD with an ``InputError``."""
    from pfof.formats import xmlsafe

    path, marker = secret
    doc = report("&x;", f'<!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "{path.as_uri()}">]>')
    if disguise != "plain":
        doc = DISGUISES[disguise](doc)
    with pytest.raises(xmlsafe.UnsafeXMLError) as caught:
        xmlsafe.parse_bytes(doc)
    assert REFUSAL.search(str(caught.value)) and marker not in str(caught.value)
    assert isinstance(caught.value, InputError)


# ------------------------------------------------------------------ no false alarms

LOOKALIKES = {
    "comment-mentions-doctype": lambda d: d.replace(
        b"?>\n", b"?>\n<!-- <!DOCTYPE x [<!ENTITY y 'z'>]> -->\n", 1
    ),
    "pi-mentions-doctype": lambda d: d.replace(b"?>\n", b"?>\n<?note <!DOCTYPE x> ?>\n", 1),
    "escaped-text": lambda d: d.replace(b"<bd>B</bd>", b"<bd>&lt;!DOCTYPE x&gt; &amp;x;</bd>"),
    "utf8-bom": lambda d: b"\xef\xbb\xbf" + d,
    "utf16": lambda d: d.decode().replace("UTF-8", "UTF-16").encode("utf-16"),
    "stylesheet-pi": lambda d: d.replace(
        b"?>\n", b'?>\n<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:9/x.xsl"?>\n', 1
    ),
}


@pytest.mark.parametrize("lookalike", list(LOOKALIKES))
def test_documents_without_a_dtd_are_not_refused(lookalike: str) -> None:
    """Text that merely looks like a DTD (in comments, PIs, escaped) is not an attack."""
    doc = LOOKALIKES[lookalike](report("B"))
    verdict = sec606.validate_606(doc, strict=True)
    assert verdict.valid and verdict.schema_valid, verdict.errors
    result = sec606.read_606(doc, strict=True)
    assert result.report.bd == ("<!DOCTYPE x> &x;" if lookalike == "escaped-text" else "B")


def test_schema_location_is_never_fetched(http_server: tuple[str, list[str]]) -> None:
    base, hits = http_server
    attrs = (
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' xsi:noNamespaceSchemaLocation="{base}/oh-20191231.xsd"'
    )
    doc = report("B", root_attrs=attrs)
    assert sec606.validate_606(doc, strict=True).schema_valid
    sec606.read_606(doc, strict=True)
    assert hits == []
