"""Every reader, fed mutated and hostile versions of the shared samples, either returns or
raises a :class:`~pfof.errors.PfofError`; never another exception, and always within a time
and memory bound (tracemalloc's peak of Python allocations).

Examples are few and, in CI, derandomized (tests/conftest.py): the suite finishes in seconds.
"""

from __future__ import annotations

import functools
import importlib
import io
import re
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_path
from pfof.errors import PfofError
from pfof.formats import csvw
from pfof.formats.archives import ArchiveLimits, Candidate, read_regular, walk
from pfof.formats.sec605 import read_605, scan_605, validate_605
from pfof.formats.sec605_summary import BUILTIN_SCHEMA
from pfof.formats.sec606 import iter_a1_cells, read_606, validate_606
from support.fuzz_inputs import HOSTILE_TEXT, mutated_bytes, mutated_lines, mutated_xml
from support.hostile_inputs import zip_of

#: Bounds every reader call meets on these small inputs (a few hundred KB at most).
SECONDS = 10.0
PEAK_MB = 200
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def ordinary(call: Callable[[], Any]) -> None:
    """Run ``call``: a PfofError is an ordinary outcome; any other exception, or a run past
    :data:`SECONDS` or :data:`PEAK_MB`, fails the test."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        call()
    except PfofError as exc:
        assert str(exc).strip(), "an error without a message"
    finally:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    seconds = time.perf_counter() - started
    assert seconds < SECONDS, f"{seconds:.1f} s"
    assert peak < PEAK_MB, f"{peak:.0f} MB"


@functools.cache
def xml_samples() -> list[bytes]:
    """Three shared 606 reports, one of each kind (read once; not a fixture, so that
    Hypothesis never prints them)."""
    return [
        shared_path("real-606", "schwab", "606-CHAS-2022Q4.xml").read_bytes(),
        shared_path("sec-606", "606b1_held_exempt_not_held_customer_routing.xml").read_bytes(),
        shared_path("sec-606", "606b3_not_held_customer_handling.xml").read_bytes(),
    ]


@FUZZ
@given(data=st.data())
def test_606_readers_survive_mutated_reports(data: st.DataObject) -> None:
    xml = data.draw(mutated_xml(data.draw(st.sampled_from(xml_samples()))))
    ordinary(lambda: read_606(xml))
    ordinary(lambda: validate_606(xml, strict=data.draw(st.booleans())))
    ordinary(lambda: list(iter_a1_cells(io.BytesIO(xml))))


@functools.cache
def lines_605() -> dict[str, tuple[list[str], str]]:
    """Lines and delimiter of a legacy, a summary and a detailed file."""
    legacy = shared_path("sec-605", "legacy-real", "TVIRT_201612_selected_symbols.txt")
    summary = shared_path("sec-605", "oes", "data", "sample.csv")
    from pfof.formats.sec605_detailed import write_detailed
    from pfof.model.records605 import DETAILED_FIELDS, DetailedRecord

    defaults = {"str": "X", "yyyymm": 202608, "int": 1}
    record = DetailedRecord(*[defaults.get(kind) for _, _, kind in DETAILED_FIELDS])  # type: ignore[arg-type]
    return {
        "legacy": (legacy.read_text().splitlines()[:40], "|"),
        "summary": (summary.read_text().splitlines(), ","),
        "detailed": (write_detailed([record] * 5).splitlines(), "|"),
    }


@FUZZ
@given(data=st.data())
def test_605_readers_survive_mutated_files(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    lines, delimiter = lines_605()[data.draw(st.sampled_from(sorted(lines_605())))]
    text = data.draw(mutated_lines(lines, delimiter))
    raw = text.encode("utf-8", "surrogateescape")
    if data.draw(st.booleans()):
        raw = data.draw(mutated_bytes(raw))
    path = tmp_path_factory.getbasetemp() / "fuzz605.txt"
    path.write_bytes(raw)
    kind = data.draw(st.sampled_from([None, "legacy", "detailed", "summary"]))
    ordinary(lambda: read_605(path, kind=kind))
    ordinary(lambda: validate_605(path, kind=kind, strict=True))
    ordinary(lambda: scan_605(path, on_record=lambda record: None))
    ordinary(lambda: validate_605(text.splitlines(), kind=kind))
    ordinary(lambda: csvw.validate_csv(text.splitlines(), BUILTIN_SCHEMA))


@FUZZ
@given(data=st.data())
def test_csvw_metadata_loader_survives_mutated_metadata(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    source = shared_path("sec-605", "oes", "src", "oes-metadata.json").read_bytes()
    path = tmp_path_factory.getbasetemp() / "fuzz-metadata.json"
    path.write_bytes(data.draw(mutated_bytes(source)))
    sample = shared_path("sec-605", "oes", "data", "sample.csv")
    ordinary(lambda: validate_605(sample, metadata=csvw.load_metadata(path)))


_MEMBER_NAMES = st.sampled_from(
    [*(t for t in HOSTILE_TEXT if t and "\x00" not in t and len(t) < 200), "a/b/../../c"]
).map(lambda t: t.replace("\n", "_").replace("/", "_")[:100] + ".xml")


@FUZZ
@given(data=st.data())
def test_archive_walk_survives_hostile_zips(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    members = {
        data.draw(_MEMBER_NAMES): data.draw(
            mutated_bytes(data.draw(st.sampled_from(xml_samples())))
        )
        for _ in range(data.draw(st.integers(1, 4)))
    }
    archive = zip_of(members)
    if data.draw(st.booleans()):
        archive = data.draw(mutated_bytes(archive))
    path = tmp_path_factory.getbasetemp() / "fuzz.zip"
    path.write_bytes(archive)
    limits = ArchiveLimits(max_total_bytes=2_000_000, max_file_bytes=1_000_000)

    def read_all() -> None:
        for entry in walk([path], limits):
            if isinstance(entry, Candidate):
                try:
                    entry.read_bytes()
                except OSError:
                    pass  # reported by ingest as a rejected file

    ordinary(read_all)
    ordinary(lambda: read_regular(path, 100_000))


#: The readers this suite drives, by module.
FUZZED = {
    "sec606": {"read_606", "validate_606", "iter_a1_cells"},
    "sec605": {"read_605", "validate_605", "scan_605"},
    "csvw": {"load_metadata", "validate_csv"},
    "archives": {"walk", "read_regular"},
}


@pytest.mark.parametrize("name", sorted(FUZZED))
def test_every_reader_of_these_format_modules_is_fuzzed(name: str) -> None:
    """A new public reader (read_*, validate_*, iter_*, scan_*, load_*, walk) of these
    modules fails here until this suite drives it."""
    module = importlib.import_module(f"pfof.formats.{name}")
    readers = {
        attr
        for attr, value in vars(module).items()
        if re.match(r"(read|validate|iter|scan|load|walk)(_|$)", attr)
        and callable(value)
        and getattr(value, "__module__", "") == module.__name__
    }
    assert readers == FUZZED[name]
