"""Training throughput of two checkouts of rxt, side by side: before and after a change.

Each round starts one fresh process per variant, alternating, so that drift of the machine hits all
alike; a process times `--steps` optimizer steps (forward, backward, AdamW) after two warm-up steps at
the Micro preset, batch 16, from a fixed seed, with the checkout's own code, and reports the median
and the losses of its steps (the loss curves of two checkouts must agree to float rounding).

    python tools/ab_train.py OLD NEW [--stages decoder,23_smat] [--rounds 3] [--steps 6] [--compile] [--json FILE]

Each record names its checkout's commit. Variants: OLD eager, NEW eager, and with --compile NEW with the objective through torch.compile.
Stages: `decoder` (the decoder alone on random tokens reading a random STM: next-token loss plus the
MoE balance loss, as the issue's RxNN/RxLM comparison measured it) or any stage of `rxt bench train`.
"""
import argparse, json, os, statistics, subprocess, sys, time
from pathlib import Path

def child(stage: str, steps: int, compile: bool) -> dict:
    import torch
    from rxt.nn.config import RxTConfig
    from rxt.nn.model import ReactiveTransformer
    try: from rxt.train.batches import keep_cpu_memory   # what the trainer applies on the CPU, where the checkout has it
    except ImportError: keep_cpu_memory = None
    applied = bool(keep_cpu_memory and keep_cpu_memory())
    torch.manual_seed(0)
    if stage == "decoder":
        from rxt.nn.layers import AuxOutputs
        from rxt.train.stage import ar_loss
        cfg = RxTConfig.micro()
        g = torch.Generator().manual_seed(1)
        batch = {"input_ids": torch.randint(8, cfg.vocab_size, (16, cfg.seq_len), generator=g),
                 "stm": torch.randn(cfg.n_layers, 16, cfg.stm_size, cfg.d_model, generator=g)}
        def objective(m, b):
            aux = AuxOutputs()
            return ar_loss(m.decoder(b["input_ids"], b["stm"], aux=aux), b["input_ids"])[0] + aux.moe_loss(), {}
        tokens = batch["input_ids"].numel()
    else:
        from rxt.eval.bench import _stage_batches, _input_tokens
        cfg, stages = _stage_batches("micro", 16)
        batch, objective = stages[stage]
        tokens = _input_tokens(batch)
    torch.manual_seed(0)
    model = ReactiveTransformer(cfg).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    f = torch.compile(objective) if compile else objective
    def step():
        loss, _ = f(model, batch); loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        return loss.item()
    t0 = time.perf_counter(); losses = [step(), step()]; warm = time.perf_counter() - t0
    ts = []
    for _ in range(steps):
        t = time.perf_counter(); losses.append(step()); ts.append(time.perf_counter() - t)
    return {"seconds": statistics.median(ts), "tokens": tokens, "losses": losses, "warmup_seconds": warm, "keep_cpu_memory": applied}

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("old"); p.add_argument("new")
    p.add_argument("--stages", default="decoder,23_smat"); p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=6); p.add_argument("--compile", action="store_true"); p.add_argument("--json")
    a = p.parse_args()
    variants = [("old", a.old, False), ("new", a.new, False)] + ([("new+compile", a.new, True)] if a.compile else [])
    def commit(path):  # the checkout's commit, "+dirty" when it has uncommitted changes to tracked files
        rev = subprocess.run(["git", "-C", path, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", path, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    out = []
    for stage in a.stages.split(","):
        runs = {name: [] for name, _, _ in variants}
        for r in range(a.rounds):
            for name, path, comp in variants:
                env = dict(os.environ, PYTHONPATH=str(Path(path).resolve()))
                cmd = [sys.executable, __file__, "--child", stage, str(a.steps)] + (["--child-compile"] if comp else [])
                res = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if res.returncode: sys.exit(f"{name} ({path}) failed on {stage}:\n{res.stderr[-2000:]}")
                runs[name].append(json.loads(res.stdout.strip().splitlines()[-1]))
                print(f"{stage} round {r + 1} {name}: {runs[name][-1]['seconds']:.3f} s/step", flush=True)
        base = statistics.median(x["seconds"] for x in runs["old"])
        ref = runs["old"][0]["losses"]
        for name, path, comp in variants:
            s = statistics.median(x["seconds"] for x in runs[name])
            losses = runs[name][0]["losses"]
            out.append({"stage": stage, "variant": name, "commit": commit(path), "compile": comp, "seconds": s,
                        "rounds": [x["seconds"] for x in runs[name]], "tokens_per_s": runs[name][0]["tokens"] / s, "x_old": base / s,
                        "losses": losses, "max_loss_rel_diff_vs_old": max(abs(x - y) / abs(y) for x, y in zip(losses, ref)),
                        "keep_cpu_memory": runs[name][0]["keep_cpu_memory"]})
    print("| stage | variant | s/step (median of rounds) | input tokens/s | × old | max loss rel. diff vs old |\n|---|---|---|---|---|---|")
    for r in out:
        print(f"| {r['stage']} | {r['variant']} | {r['seconds']:.3f} | {r['tokens_per_s']:,.0f} | {r['x_old']:.2f} | {r['max_loss_rel_diff_vs_old']:.1e} |")
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1) + "\n")

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], int(sys.argv[3]), "--child-compile" in sys.argv)))
    else: main()
