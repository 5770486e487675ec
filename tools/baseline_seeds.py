"""Retrain a run's stateless baseline with other trainer seeds (same data, steps and batches) and score each on the
retention questions `rxt report` asks (200 test episodes of every kind, 8 follow-ups, distances 1, 2, 4, 8).

    python tools/baseline_seeds.py runs/default 1 2 --json nbs/figures/results/baseline_seeds.json

Seed `-1` scores the run's own baseline without training. Each trained baseline goes to /tmp/baseline_seed{N}/
(about 9 minutes on the 2-core CPU for the default profile; a finished one is reused).
"""
import argparse, json
from pathlib import Path
from rxt.data.dialogues import generate_episodes
from rxt.eval.retention import HistoryAnswerer, retention
from rxt.nn.model import DecoderOnlyLM, ReactiveTransformer
from rxt.train.baseline import baseline_checkpoint, train_baseline
from rxt.train.stage import BaselineParams, stage_tokenizer

def main():
    a = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    a.add_argument("run"); a.add_argument("seeds", nargs="+", type=int); a.add_argument("--json")
    a = a.parse_args()
    run, out = Path(a.run), []
    tok_dir = run / "tokenizer"
    tok = stage_tokenizer(tok_dir if (tok_dir / "tokenizer.json").exists() else "")
    seq_len = ReactiveTransformer.from_pretrained(run / "23_smat" / "checkpoint").cfg.seq_len
    eps = generate_episodes(200, 8, 0, "test", ("multi", "long", "overwrite", "single"), distances=[1, 2, 4, 8])  # as rxt report
    for seed in a.seeds:
        if seed < 0: ck = baseline_checkpoint(run / "25_baseline")
        else:
            d = Path(f"/tmp/baseline_seed{seed}/25_baseline")
            train_baseline(BaselineParams(run_dir=str(d), episodes=str(run / "data" / "episodes_train.jsonl"), episode_steps=4,
                                          rxt_run=str(run / "20_joint_lm"), seed=seed))
            ck = baseline_checkpoint(d)
        res = retention({"baseline": HistoryAnswerer(DecoderOnlyLM.from_pretrained(ck), seq_len)}, eps, tok, 32, 48)
        recs = res.records["baseline"]
        d1 = [r for r in recs if r["distance"] == 1]
        out.append({"seed": seed, "run": str(run), "recalled": sum(r["recall"] for r in recs), "questions": len(recs),
                    "recalled_d1": sum(r["recall"] for r in d1), "questions_d1": len(d1)})
        print(out[-1], flush=True)
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1) + "\n")

if __name__ == "__main__": main()
