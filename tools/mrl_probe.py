"""Stage 5 (MRL) variants from one SMAT checkpoint: does MRL keep, lower or raise recall?

Each variant runs `train_mrl` (the default profile's MrlParams, IMPO, with the variant's changes) from RUN's
23_smat into a scratch folder, then plays rxt report's test episodes (`report_episodes`: 200 episodes of every
kind, 8 follow-ups) with the memory, greedy. "smat" is the starting checkpoint itself. Writes every variant's
recall by distance, its last iteration's reward, the rollouts' gold recall per iteration and its wall time.

    python tools/mrl_probe.py [--run runs/default] [--threads 2] [--json nbs/figures/results/mrl_probe.json] [--variants 'smat;dmpo, lr_scale 0.1'] [--reset]
"""
import argparse, json, tempfile, time
from dataclasses import asdict
from pathlib import Path
import torch
from rxt.train.stage import MrlParams, stage_tokenizer
from rxt.train.mrl import train_mrl
from rxt.train.impo import ImpoConfig
from rxt.train.mrl_env import MrlReward
from rxt.nn.model import ReactiveTransformer
from rxt.eval.evaluation import recall_by_distance
from rxt.eval.retention import report_episodes

GOLD = dict(bleu=0.1, cos=0.15, length=0.05, gold=0.7, neg_bleu=0.475, neg_cos=0.475)   # the gold-recall term dominant
VARIANTS = {   # name: (MrlParams changes, ImpoConfig changes, MrlReward changes); None: the SMAT checkpoint
    "smat": None,
    "lr_scale 1 (ImpoConfig's rates)": ({"lr_scale": 1.0}, {}, {}),
    "lr_scale 1, teacher forcing": ({"lr_scale": 1.0, "teacher_forcing_until": 99}, {}, {}),
    "lr_scale 1, ref_kl 0.5": ({"lr_scale": 1.0}, {"ref_kl": 0.5}, {}),
    "lr_scale 0.1 (the default)": ({"lr_scale": 0.1}, {}, {}),
    "lr_scale 0.033": ({"lr_scale": 1 / 30}, {}, {}),
    "lr_scale 0.1, gold-weighted reward, 3x iterations": ({"lr_scale": 0.1, "iterations": 3 * MrlParams.iterations}, {}, GOLD),
    "dmpo, lr_scale 0.1": ({"lr_scale": 0.1, "algorithm": "dmpo"}, {}, {}),
    "dmpo, lr_scale 1": ({"lr_scale": 1.0, "algorithm": "dmpo"}, {}, {}),
    "dmpo, lr_scale 0.1, 10x iterations": ({"lr_scale": 0.1, "algorithm": "dmpo", "iterations": 10 * MrlParams.iterations}, {}, {}),
    "dmpo, lr_scale 1, 10x iterations": ({"lr_scale": 1.0, "algorithm": "dmpo", "iterations": 10 * MrlParams.iterations}, {}, {}),
}

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--run", default="runs/default"); ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--json", default="nbs/figures/results/mrl_probe.json")
ap.add_argument("--variants", default="", help="names of VARIANTS to run, separated by semicolons (default: all)")
ap.add_argument("--reset", action="store_true", help="also play the test episodes with the STM reset before each question (the control)")
a = ap.parse_args()
chosen = [x.strip() for x in a.variants.split(";") if x.strip()] if a.variants else list(VARIANTS)
if unknown := [x for x in chosen if x not in VARIANTS]: ap.error(f"unknown variants {unknown}: choose among {list(VARIANTS)}")
torch.set_num_threads(a.threads)
run, tok, eps, out = Path(a.run), stage_tokenizer(""), report_episodes(200, 8, 0), {}
with tempfile.TemporaryDirectory() as tmp:
    for i, (name, v) in enumerate((k, VARIANTS[k]) for k in chosen):
        t0, rows, s = time.perf_counter(), [], {}
        if v is None: ck = run / "23_smat" / "checkpoint"
        else:
            p = MrlParams(run_dir=f"{tmp}/{i}", init_from=str(run / "23_smat"), **v[0])
            s = train_mrl(p, impo=ImpoConfig(**v[1]), reward=MrlReward(**v[2]), overwrite=True)
            ck, rows = Path(tmp) / str(i) / "checkpoint", [json.loads(l) for l in (Path(tmp) / str(i) / "metrics.jsonl").read_text().splitlines()]
        t1 = time.perf_counter()
        model = ReactiveTransformer.from_pretrained(ck).eval()
        rec = recall_by_distance(model, tok, eps)
        reset = {"reset_recall": recall_by_distance(model, tok, eps, reset=True)["recall"]} if a.reset else {}
        out[name] = {"changes": v, "recall": rec["recall"], "questions": rec["questions"], "train_s": t1 - t0, **reset,
                     "final_reward": s.get("final_reward"), "rollout_recall": [r.get("recall") for r in rows],
                     "reward": [r.get("reward") for r in rows],
                     **({"dmpo": {k: [r.get(k) for r in rows] for k in ("loss", "margin", "pairs")}} if v and v[0].get("algorithm") == "dmpo" else {})}
        r = {int(k): x for k, x in rec["recall"].items()}
        print(f"{name:52} distance 1 {r[1]:.3f}  2 {r[2]:.3f}  reward {s.get('final_reward') or 0:.3f}  {t1 - t0:.0f} s", flush=True)
meta = {"run": str(run.resolve()), "mrl_defaults": asdict(MrlParams()), "episodes": len(eps), "threads": a.threads,
        "command": "python tools/mrl_probe.py" + (f" --variants '{a.variants}'" if a.variants else "") + (" --reset" if a.reset else "")}
Path(a.json).write_text(json.dumps({"meta": meta, "variants": out}, indent=1) + "\n")
