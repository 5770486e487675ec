"""Stage 3 before and after its fix, each followed by the same stage 4, from the same stage-2 checkpoint of a pipeline run.

Before the fix, stage 3's target (1 − w)·STM + w·ED was built from the STM *with* its gradient: at the first step the
STM is the learned initial state, so the network could raise the cosine by moving the initial state instead of learning
the update. `memattn_loss_before` below is that loss (our own earlier version, kept here only for this comparison);
the fixed one is `rxt.train.memattn_pretrain.memattn_loss`. Both runs replay the pipeline run's own stage-3 and stage-4
parameters (their params.json), so the only difference is the detach. Prints a Markdown table: stage losses, the initial
STM's RMS, and retention on the same test episodes (`rxt.eval.retention`, every kind, 8 follow-ups).

    python tools/stage3_before_after.py --run runs/default --out runs/stage3_before --json nbs/figures/results/stage3_before_after.json
"""
import argparse, json, time
from dataclasses import replace
from pathlib import Path
import torch
import torch.nn.functional as F
import rxt.train.memattn_pretrain as M
from rxt.data.dialogues import KINDS
from rxt.eval.retention import evaluate_retention
from rxt.nn.model import ReactiveTransformer
from rxt.train.smat import train_smat
from rxt.train.stage import MemAttnParams, SmatParams, run_params

def memattn_loss_before(model, turns, input_noise=0.2, label_noise=0.2, jitter=0.15, rng=None, targets=None):
    "Stage 3's loss before the fix: the target is built from the STM with its gradient (no detach)."
    stm, losses, cos = model.init_stm(turns[0]["input_ids"].shape[0]), [], []
    for step, turn in enumerate(turns):
        with torch.no_grad(): ed = model.encode(turn["input_ids"], turn["attention_mask"])
        new = model.memory_attention(stm, ed + input_noise * torch.randn_like(ed), turn["attention_mask"])
        target = M.memattn_target(stm, ed, M.label_weight(step, jitter, rng), turn["attention_mask"])   # the defect: stm not detached
        target = target + label_noise * torch.randn_like(target)
        c = F.cosine_similarity(new.float(), target.float(), dim=-1).mean()
        losses.append(-c); cos.append(c.detach()); stm = new.detach()
    return torch.stack(losses).mean(), {"cosine": torch.stack(cos).mean(), "cosine_last": cos[-1]}

def init_rms(run_stage: Path) -> float:
    m = ReactiveTransformer.from_pretrained(run_stage / "checkpoint")
    return round(m.init_stm(1).float().pow(2).mean().sqrt().item(), 4)

def metrics(d: Path) -> dict: return json.loads((d / "metrics.json").read_text())

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--run", default="runs/default", help="a finished `rxt pipeline` run (its fixed stages 3 and 4 are the 'after')")
ap.add_argument("--out", default="runs/stage3_before"); ap.add_argument("--json", default="")
ap.add_argument("--episodes", type=int, default=200); ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args(); torch.set_num_threads(a.threads)
run, out, t0 = Path(a.run), Path(a.out), time.time()
M.memattn_loss = memattn_loss_before             # train_memattn's objective looks the name up at call time
p3 = replace(run_params(run / "22_memattn_pretrain", MemAttnParams), init_from=str(run / "21_interaction_sft"),
             run_dir=str(out / "22_memattn_pretrain"), resume=False, progress=True)
if not (out / "22_memattn_pretrain" / "metrics.json").exists(): M.train_memattn(p3)
p4 = replace(run_params(run / "23_smat", SmatParams), init_from=str(out / "22_memattn_pretrain"), run_dir=str(out / "23_smat"),
             resume=False, progress=True)
if not (out / "23_smat" / "metrics.json").exists(): train_smat(p4)
rows, res = {}, {}
for name, r in (("before (target from the live STM)", out), ("after (target from a detached STM)", run)):
    ret = evaluate_retention(r, a.episodes, steps=8, seed=0, split="test", distances=(1, 2, 4, 8), kinds=KINDS)
    hits = {}
    for system in ("rxt", "rxt_reset"):
        for rec in ret.records[system]:
            h = hits.setdefault((system, rec["distance"]), [0, 0]); h[0] += rec["recall"] == 1; h[1] += 1
    rows[name] = {"stage 3 valid loss (−cosine)": metrics(r / "22_memattn_pretrain").get("valid_loss"),
                  "initial STM RMS after stage 3": init_rms(r / "22_memattn_pretrain"),
                  "stage 4 train loss": metrics(r / "23_smat").get("train_loss"), "stage 4 valid loss": metrics(r / "23_smat").get("valid_loss"),
                  **{f"recall {'memory' if s == 'rxt' else 'reset'} d={d}": f"{h[0]}/{h[1]}" for (s, d), h in sorted(hits.items())}}
names = list(rows)
print("| metric | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
for k in rows[names[0]]:
    print(f"| {k} | " + " | ".join(f"{rows[n][k]:.3f}" if isinstance(rows[n][k], float) else str(rows[n][k]) for n in names) + " |")
print(f"{time.time() - t0:.0f} s")
if a.json:
    Path(a.json).write_text(json.dumps({"command": f"python tools/stage3_before_after.py --run {a.run} --out {a.out}", "rows": rows}, indent=1) + "\n")
