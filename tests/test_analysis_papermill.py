"""The STM analysis notebook through papermill, as a real run executes it: six figures, each a PNG and a JSON.

The notebook reads the committed fixture (`nbs/fixtures/analysis_run/`) with its default parameters
and writes into a temporary `figures_dir`, so `nbs/figures/` is left alone. The numbers it plots must
be those of the committed `nbs/figures/*.json` (the committed figures are what the notebook draws);
greedy recall is compared by its keys only, as one argmax flip on another CPU changes a value.
"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "nbs" / "41_analysis_stm.ipynb"
FIGURES = ("stm_norm_change", "stm_gates", "stm_cosine", "stm_cross_attention", "stm_retention", "stm_latency")


def _close(a, b, path="") -> list[str]:
    "Where two JSON values differ (numbers within 1e-3 relative or 1e-5 absolute)."
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b): return [f"{path}: keys {sorted(a)} vs {sorted(b)}"]
        return [d for k in a for d in _close(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b): return [f"{path}: length {len(a)} vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _close(x, y, f"{path}[{i}]")]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return [] if abs(a - b) <= 1e-5 + 1e-3 * abs(b) else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def test_analysis_notebook_writes_its_figures(tmp_path):
    import papermill as pm
    out = tmp_path / "figures"
    pm.execute_notebook(str(NB), str(tmp_path / NB.name), parameters={"figures_dir": str(out)}, cwd=str(NB.parent),
                        kernel_name="python3", progress_bar=False)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.{e}" for n in FIGURES for e in ("json", "png"))
    for name in FIGURES:
        png, data = (out / f"{name}.png").read_bytes(), json.loads((out / f"{name}.json").read_text())
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) <= 200 * 1024, name
        committed = json.loads((ROOT / "nbs" / "figures" / f"{name}.json").read_text())
        if name == "stm_retention": assert data.keys() == committed.keys() and data["recall"].keys() == committed["recall"].keys()
        else: assert not _close(data, committed), f"{name}: the committed figure is stale (re-run nbdev-test): {_close(data, committed)[:5]}"
