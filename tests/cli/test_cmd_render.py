"""``pfof rule606 render``: a 606 file in the SEC's layout, as HTML (stdout or file) or PDF."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pfof.cli import app
from pfof.reports.sec606_layout import ChromiumError, find_chromium

runner = CliRunner()


def test_render_prints_the_html_page(sec606_samples: Path) -> None:
    result = runner.invoke(
        app, ["rule606", "render", str(sec606_samples / "606a1_held_order_public_report.xml")]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert "B. Roker - Held NMS Stocks and Options Order Routing Public Report" in result.stdout


def test_render_writes_html_and_pdf_files(sec606_samples: Path, tmp_path: Path) -> None:
    try:
        find_chromium()
    except ChromiumError:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: CI must install Debian's chromium (.ci/run)")
        pytest.skip("Chromium is absent: install Debian's chromium to print PDFs")
    sample = sec606_samples / "606b3_not_held_customer_handling.xml"
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    result = runner.invoke(
        app, ["rule606", "render", str(sample), "--html", str(html), "--pdf", str(pdf)]
    )
    assert result.exit_code == 0, result.output
    assert "Not-Held NMS Stocks Order Handling Report" in html.read_text()
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_render_of_a_file_that_is_not_a_606_report_is_one_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<notAReport/>")
    result = runner.invoke(app, ["rule606", "render", str(bad)])
    assert result.exit_code == 2
    assert result.output.startswith("error:") and "bad.xml" in result.output
