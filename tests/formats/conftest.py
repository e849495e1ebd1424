"""Fixtures for the Rule 606 tests: the SEC schema (loaded once) and the shared documents."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from conftest import SHARED, shared_path
from support.sec606_mutations import Base, load_bases

#: Files too large to use as mutation bases (mutating them is slow and adds nothing).
LARGE = 500_000


def shared_xml(*folders: str) -> list[object]:
    """``pytest.param`` entries (paths relative to ../shared) for every XML file in ``folders``.

    When ../shared is absent a single placeholder is returned; ``shared_path`` then skips
    (or fails in CI).
    """
    found: list[Path] = []
    for folder in folders:
        root = SHARED / folder
        if root.is_dir():
            found.extend(sorted(root.rglob("*.xml")))
    if not found:
        return [pytest.param(f"{folders[0]}/absent.xml", id="shared-absent")]
    return [
        pytest.param(p.relative_to(SHARED).as_posix(), id=p.relative_to(SHARED).as_posix())
        for p in found
    ]


def resolve(relative: str) -> Path:
    """The shared file for a ``shared_xml`` parameter (skips when ../shared is absent)."""
    return shared_path(*relative.split("/"))


SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@pytest.fixture(scope="session")
def sec_xsd() -> etree.XMLSchema:
    """The SEC's XSD, read from ../shared at run time (never copied into the repository)."""
    return etree.XMLSchema(etree.parse(str(shared_path("sec-606", "oh-20191231.xsd"))))


@pytest.fixture(scope="session")
def lxml_verdict(sec_xsd: etree.XMLSchema) -> Callable[[bytes], tuple[bool, str]]:
    """lxml's verdict on a document: (valid, error log)."""

    def verdict(xml: bytes) -> tuple[bool, str]:
        valid = sec_xsd.validate(etree.fromstring(xml, SAFE_PARSER))
        return valid, "" if valid else str(sec_xsd.error_log)

    return verdict


@pytest.fixture(scope="session")
def mutation_bases() -> list[Base]:
    """Small and medium shared documents, trimmed to a few venues/orders each."""
    shared_path("sec-606")
    paths = [
        p
        for folder in ("sec-606", "real-606")
        for p in (SHARED / folder).rglob("*.xml")
        if p.stat().st_size < LARGE
    ]
    return load_bases(paths, keep=3)


#: Source of ``peak_kb()`` for child processes: VmHWM is reset by exec, while ``ru_maxrss``
#: keeps the parent's resident size from before the fork (pytest may be large by then).
PEAK_KB_SOURCE = """
def peak_kb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""
