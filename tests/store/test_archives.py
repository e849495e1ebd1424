"""Walking files, folders and nested zips for 606 candidates, with zip-bomb limits."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pfof.formats.archives import ArchiveLimits, Candidate, Skipped, walk

Tree = dict[str, "bytes | Tree"]


def zip_bytes(tree: Tree) -> bytes:
    """A zip whose members are ``tree``'s entries; dict values become nested zips."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, value in tree.items():
            z.writestr(name, zip_bytes(value) if isinstance(value, dict) else value)
    return buf.getvalue()


def leaves(tree: Tree, prefix: str) -> dict[str, bytes]:
    out = {}
    for name, value in tree.items():
        path = f"{prefix}!{name}"
        if isinstance(value, dict):
            out.update(leaves(value, path))
        elif name.endswith(".xml"):
            out[path] = value
    return out


def candidates(entries: list) -> dict[str, bytes]:
    return {e.path: e.read_bytes() for e in entries if isinstance(e, Candidate)}


def test_folder_walk_yields_xml_files_and_zip_members_and_skips_the_rest(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.xml").write_bytes(b"<b/>")
    (tmp_path / "sub" / "a.XML").write_bytes(b"<a/>")
    (tmp_path / "readme.txt").write_text("hi")
    (tmp_path / "c.zip").write_bytes(zip_bytes({"x.xml": b"<x/>", "y.pdf": b"%PDF"}))
    entries = list(walk([tmp_path]))
    assert candidates(entries) == {
        f"{tmp_path}/b.xml": b"<b/>",
        f"{tmp_path}/c.zip!x.xml": b"<x/>",
        f"{tmp_path}/sub/a.XML": b"<a/>",
    }
    skipped = [(e.path, e.error) for e in entries if isinstance(e, Skipped)]
    assert skipped == [(f"{tmp_path}/c.zip!y.pdf", False), (f"{tmp_path}/readme.txt", False)]


SEGMENT = st.text(alphabet="abcxyz019_-", min_size=1, max_size=6)
TREES = st.recursive(
    st.dictionaries(
        st.tuples(SEGMENT, st.sampled_from([".xml", ".txt"])).map("".join),
        st.binary(max_size=40),
        max_size=3,
    ),
    lambda children: st.dictionaries(
        st.one_of(
            st.tuples(SEGMENT, st.sampled_from([".xml", ".txt"])).map("".join),
            st.tuples(SEGMENT, st.just(".zip")).map("".join),
        ),
        st.one_of(st.binary(max_size=40), children),
        max_size=3,
    ).map(lambda d: {k: v for k, v in d.items() if k.endswith(".zip") == isinstance(v, dict)}),
    max_leaves=8,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TREES)
def test_nested_zips_yield_exactly_their_xml_leaves(tmp_path: Path, tree: Tree) -> None:
    path = tmp_path / "bulk.zip"
    path.write_bytes(zip_bytes(tree))
    entries = list(walk([path], ArchiveLimits(max_depth=10)))
    assert candidates(entries) == leaves(tree, str(path))
    assert not any(e.error for e in entries if isinstance(e, Skipped))


def test_deep_member_path_joins_the_archive_levels_with_bangs(tmp_path: Path) -> None:
    path = tmp_path / "bulk.zip"
    path.write_bytes(zip_bytes({"2024Q1/broker.zip": {"report.xml": b"<r/>"}}))
    (entry,) = walk([path])
    assert isinstance(entry, Candidate)
    assert entry.path == f"{path}!2024Q1/broker.zip!report.xml"


def test_archive_nested_deeper_than_the_limit_is_skipped_as_an_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.zip"
    path.write_bytes(zip_bytes({"a.zip": {"b.zip": {"r.xml": b"<r/>"}}, "top.xml": b"<t/>"}))
    entries = list(walk([path], ArchiveLimits(max_depth=2)))
    assert [e.path for e in entries if isinstance(e, Candidate)] == [f"{path}!top.xml"]
    (err,) = [e for e in entries if isinstance(e, Skipped)]
    assert err.error and "nested deeper than 2" in err.reason
    assert err.path == f"{path}!a.zip!b.zip"


def test_member_limit_stops_that_archive_only(tmp_path: Path) -> None:
    many = tmp_path / "many.zip"
    many.write_bytes(zip_bytes({f"{i:03}.xml": b"<r/>" for i in range(10)}))
    loose = tmp_path / "loose.xml"
    loose.write_bytes(b"<l/>")
    entries = list(walk([many, loose], ArchiveLimits(max_members=4)))
    assert [e.path.rsplit("!", 1)[-1] for e in entries if isinstance(e, Candidate)] == [
        "000.xml",
        "001.xml",
        "002.xml",
        "003.xml",
        str(loose),
    ]
    (err,) = [e for e in entries if isinstance(e, Skipped)]
    assert err.error and "more than 4 archive members" in err.reason


def test_members_past_the_total_size_limit_are_skipped_as_an_error(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    path.write_bytes(zip_bytes({"a.xml": bytes(range(256)) * 40, "b.xml": bytes(range(256)) * 40}))
    entries = list(walk([path], ArchiveLimits(max_total_bytes=15_000)))
    assert [e.path for e in entries if isinstance(e, Candidate)] == [f"{path}!a.xml"]
    (err,) = [e for e in entries if isinstance(e, Skipped)]
    assert err.error and "uncompressed bytes" in err.reason


def test_member_above_the_compression_ratio_limit_is_skipped_as_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(zip_bytes({"zeros.xml": bytes(5_000_000)}))
    (err,) = walk([path], ArchiveLimits(max_ratio=100))
    assert isinstance(err, Skipped) and err.error and "compression ratio" in err.reason


def test_bad_inputs_are_errors_not_crashes(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    inner_junk = tmp_path / "outer.zip"
    inner_junk.write_bytes(zip_bytes({"inner.zip": b"garbage", "ok.xml": b"<ok/>"}))
    entries = list(walk([tmp_path / "missing.xml", junk, inner_junk]))
    errors = [(e.path, e.reason.split(":")[0]) for e in entries if isinstance(e, Skipped)]
    assert errors == [
        (str(tmp_path / "missing.xml"), "no such file or folder"),
        (str(junk), "not a readable zip archive"),
        (f"{inner_junk}!inner.zip", "not a readable zip archive"),
    ]
    assert candidates(entries) == {f"{inner_junk}!ok.xml": b"<ok/>"}
