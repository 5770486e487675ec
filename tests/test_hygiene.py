"Repository hygiene: the notebook-first layout stays small, clean and consistent."
import json, re, subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_notebooks_are_small():
    big = [p.name for p in (ROOT / "nbs").glob("*.ipynb") if p.stat().st_size > 1_000_000]
    assert not big, f"notebooks over 1 MB (keep outputs small): {big}"


def test_notebooks_have_title_and_summary():
    for p in sorted((ROOT / "nbs").glob("[0-9]*.ipynb")):
        cells = json.loads(p.read_text())["cells"]
        first = cells[0]["source"] if isinstance(cells[0]["source"], str) else "".join(cells[0]["source"])
        assert first.startswith("# ") and "\n> " in first, f"{p.name}: cell 1 must be '# Title' then '> summary'"


def test_no_export_cell_in_stage_notebooks():
    for p in sorted((ROOT / "nbs").glob("2*.ipynb")):
        assert "nbdev_export()" not in p.read_text(), f"{p.name} calls nbdev_export(): papermill would rewrite rxt/ mid-run"


def test_ci_runs_the_readme_test_command():
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci/run").read_text()
    assert "<!-- test-command -->" in readme and "<!-- main-command -->" in readme
    assert "test-command" in ci, ".ci/run must take its test command from the README"
