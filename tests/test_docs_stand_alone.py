"""The product's code and docs stand alone: no citation of notes outside the repository.

Sources of formulas and thresholds belong in docs/references.md; a path that does not exist
in the repository (a design note, a benchmark that was never written) is a broken promise.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ["station", "docs", "hardware", "calibration", "systemd", "web/templates", "bench"]
SUFFIXES = {".py", ".md", ".html", ".sh", ".toml", ".service", ".js"}


def product_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for top in PRODUCT:
        files += [p for p in (ROOT / top).rglob("*") if p.suffix in SUFFIXES and p.is_file()]
    return files


def test_no_design_notes_cited():
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in product_files()
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
        if "DESIGN.md" in line or ("../shared" in line and p.suffix == ".md")
    ]
    assert offenders == [], "cite docs/references.md or the source by name: " + ", ".join(offenders)


def test_cited_bench_scripts_exist():
    missing = sorted(
        {
            f"{p.relative_to(ROOT)} cites {m}"
            for p in product_files()
            for m in re.findall(r"bench/[\w-]+\.py", p.read_text(errors="replace"))
            if not (ROOT / m).exists()
        }
    )
    assert missing == []


def test_references_doc_lists_every_key_used_in_the_mdc_table():
    from station.analysis.scoring import MDC_TABLE

    references = (ROOT / "docs" / "references.md").read_text()
    for entry in MDC_TABLE:
        if not entry.assumption:
            assert "docs/references.md" in entry.source
    assert "not yet traced" in references
