"""Every notebook in `nbs/` runs through nbdev's tester, one pytest test per notebook.

`nbdev.test` is imported as a module: importing its `test_nb` by name would make pytest collect it.
Cells flagged `slow` or `gpu` are skipped here, as with `nbdev-test`; run them with
`nbdev-test --flags slow`.
"""
from pathlib import Path

import pytest
import nbdev.test as nbtest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "nbs").glob("*.ipynb") if not p.name.startswith("_"))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(nb):
    ok, seconds = nbtest.test_nb(nb, skip_flags=["notest", "slow", "gpu"])
    assert ok, f"{nb.name} failed under nbdev's tester (see the traceback above)"
