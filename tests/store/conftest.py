"""Fixtures for the store tests: the real 606 reports in ../shared (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import shared_path


@pytest.fixture
def shared_606() -> Path:
    return shared_path("real-606")


@pytest.fixture
def schwab() -> Path:
    return shared_path("real-606", "schwab")


@pytest.fixture
def sec606_samples() -> Path:
    return shared_path("sec-606")
