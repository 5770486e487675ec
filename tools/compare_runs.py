"""Two or more `rxt pipeline` runs side by side: each stage's wall time, steps and final losses, then the pipeline's retention check.

Reads only each run's `results.json` (written by `rxt pipeline`); prints a Markdown table.

    python tools/compare_runs.py runs/before runs/default
"""
import json, sys
from pathlib import Path

def load(run: str) -> dict:
    f = Path(run) / "results.json"
    if not f.exists(): sys.exit(f"{f} is missing: give the folder of a finished `rxt pipeline` run")
    return json.loads(f.read_text())

def fmt(x, nd=3): return "–" if x is None else f"{x:.{nd}f}" if isinstance(x, float) else str(x)

runs = [load(r) for r in sys.argv[1:]] or sys.exit(__doc__)
names = sys.argv[1:]
print("| stage | metric | " + " | ".join(names) + " |"); print("|---|---|" + "---|" * len(runs))
stages = list(dict.fromkeys(s for r in runs for s in r["stage_seconds"]))
for s in stages:
    for label, get in (("seconds", lambda r: r["stage_seconds"].get(s)), ("steps", lambda r: r["stages"].get(s, {}).get("steps")),
                       ("train loss", lambda r: r["stages"].get(s, {}).get("train_loss")), ("valid loss", lambda r: r["stages"].get(s, {}).get("valid_loss"))):
        print(f"| {s} | {label} | " + " | ".join(fmt(get(r), 0 if label == "seconds" else 3) for r in runs) + " |")
print("| all | wall minutes | " + " | ".join(f"{r['wall_seconds'] / 60:.1f}" for r in runs) + " |")
for key, label in (("recall_memory", "recall, memory"), ("recall_reset", "recall, STM reset")):
    ds = list(dict.fromkeys(d for r in runs for d in r.get(key, {})))
    for d in ds: print(f"| retention check | {label}, d={d} | " + " | ".join(fmt(r.get(key, {}).get(d), 2) for r in runs) + " |")
