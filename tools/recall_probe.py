"""How fast stage 4 teaches a model to carry an unseen value through the STM: one-fact episodes, one distance, a growing value space.

A probe, not a stage: it trains with `smat_loss` on fresh `single` episodes (rxt.data.dialogues) asked `--d` turns after
the fact was told, optionally with the syllable inventory of the made-up values grown along the steps (`--growth`, as
SmatParams.ladder_values can; the default '1:70' is the full space from the start), and every `--eval-every` steps scores 256 test-split episodes (values that occur in no training
text) with the memory and with the STM reset. The score is the teacher-forced exact match of the whole last answer
(every answer token, given the reference tokens before it, is the argmax), plus the answer's mean NLL; it measures both
on the full value space (70 syllables) and on the inventory in use. Teacher forcing makes it cheap; the retention
evaluation (rxt.eval.retention) generates freely and is the number to quote for a trained run.

    python tools/recall_probe.py --init runs/pre1/22_memattn_pretrain --growth 0.3:10/0.55:20/0.8:40/1:70 --steps 1600 --threads 1 --json PATH
"""
import argparse, json, time
from pathlib import Path
import torch
from rxt.data.dialogues import generate_episodes
from rxt.data.values import ValueSpace
from rxt.data.datasets import EpisodeDataset, collate_episodes
from rxt.train.stage import stage_model, stage_tokenizer
from rxt.train.checkpoint import load_weights
from rxt.train.smat import smat_loss, parse_growth, ladder_rung
from rxt.train.stage import ar_loss
from rxt.nn.layers import AuxOutputs

def recon_loss(model, turns, bptt, w):
    "smat_loss plus w x the next-token loss of the whole previous interaction, decoded from the STM it was just written into."
    stm = model.init_stm(turns[0]["input_ids"].shape[0]); total, count, rt, rc, aux = 0.0, 0, 0.0, 0, AuxOutputs()
    for t, turn in enumerate(turns):
        if t > 0:
            if (t - 1) % bptt == 0: stm = stm.detach()
            prev = turns[t - 1]
            stm = model.update_memory(stm, prev["input_ids"], prev["attention_mask"])
            rl, _, rn = ar_loss(model.decoder(prev["input_ids"], stm, prev["attention_mask"], aux=aux),
                                prev["input_ids"].masked_fill(prev["attention_mask"] == 0, -100))
            rt, rc = rt + rl * rn, rc + rn
        loss, acc, n = ar_loss(model.decoder(turn["input_ids"], stm, turn["attention_mask"], aux=aux), turn["labels"])
        total, count = total + loss * n, count + n
    return total / count + aux.moe_loss() + w * rt / rc, {}

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--init", default="", help="a stage run folder to start from (empty: the preset, from scratch)")
ap.add_argument("--preset", default="nano"); ap.add_argument("--growth", default="1:70")
ap.add_argument("--steps", type=int, default=600); ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--lr", type=float, default=1e-3); ap.add_argument("--d", type=int, default=1)
ap.add_argument("--eval-every", type=int, default=400); ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--seq", type=int, default=96, help="longest turn in tokens"); ap.add_argument("--json", default="")
ap.add_argument("--length", type=int, default=0, help="longest episode in follow-ups: each batch draws its length from d+1 … this, "
                "unrelated turns before the fact (0: d+1, the fact opens the episode)")
ap.add_argument("--ds", default="", help="train distances, comma-separated, one drawn per batch (default: --d)")
ap.add_argument("--save", default="", help="write the trained model (safetensors + config) to this folder")
ap.add_argument("--bptt", type=int, default=1, help="memory updates the gradient flows back through")
ap.add_argument("--recon", type=float, default=0.0, help="weight of an auxiliary loss: the previous interaction reconstructed from the STM (0: off)")
ap.add_argument("--data-seed", type=int, default=0, help="offset of the training batches' seeds (another draw of the same episodes' kind)")
ap.add_argument("--ablate", default="", help="comma-separated changes to the loaded model: xrope0 (no RoPE on the decoder's memory "
                "cross-attention queries), mrope0 (none on memory attention's keys), simple (memory attention without its interlayer step)")
ap.add_argument("--eval-at", default="", help="(d:follow-ups) pairs scored besides d:d+1, e.g. 1:8,4:8,8:8")
a = ap.parse_args(); torch.set_num_threads(a.threads); torch.manual_seed(0)
tok = stage_tokenizer(); m = stage_model(a.preset, a.init or None, tok.vocab_size)
if a.init: load_weights(m, a.init)
for flag in filter(None, a.ablate.split(",")):
    if flag == "xrope0":
        for l in m.decoder.layers: l.cross_attn.rope_mode = "none"
    elif flag == "mrope0":
        for st in m.memory_attention.net.main: st.attn.rope_mode = "none"
    elif flag == "simple": m.memory_attention.net.prepare = lambda stm, aux=None: stm
    else: raise SystemExit(f"--ablate {flag!r} is unknown: use xrope0, mrope0 or simple")
growth = parse_growth(a.growth)

import random
train_ds = [int(x) for x in a.ds.split(",")] if a.ds else [a.d]
evals = [(a.d, a.d + 1)] + [tuple(int(x) for x in p.split(":")) for p in filter(None, a.eval_at.split(","))]

def batch(n: int, seed: int, split: str, syllables: int, d: int | None = None, steps: int | None = None) -> list[dict]:
    if d is None:
        r = random.Random(f"probe:{seed}"); d = r.choice(train_ds); steps = r.randint(d + 1, max(a.length, d + 1))
    eps = generate_episodes(n, steps, seed, split, ["single"], ValueSpace(syllables=syllables), distances=[d])
    return collate_episodes(list(EpisodeDataset(eps, tok, a.seq)))

@torch.no_grad()
def score(syllables: int, n: int = 256, d: int = 1, steps: int = 2) -> dict:
    "Teacher-forced exact match of the last answer and its NLL, with the memory and with the STM reset."
    m.eval(); turns, out = batch(n, 10**6 + 7, "test", syllables, d, steps), {}
    for system in ("memory", "reset"):
        stm = m.init_stm(n)
        if system == "memory":
            for t in turns[:-1]: stm = m.update_memory(stm, t["input_ids"], t["attention_mask"])
        last = turns[-1]; lg = m.decoder(last["input_ids"], stm, last["attention_mask"])[:, :-1]; lab = last["labels"][:, 1:]
        exact = ((lg.argmax(-1) == lab) | (lab == -100)).all(-1).float().mean().item()
        nll = torch.nn.functional.cross_entropy(lg.flatten(0, 1), lab.flatten(), ignore_index=-100).item()
        out[system] = {"exact": round(exact, 3), "nll": round(nll, 3)}
    m.train(); return out

opt = torch.optim.AdamW(m.parameters(), lr=a.lr, weight_decay=0.01); t0, rows = time.time(), []
for step in range(a.steps):
    syl = ladder_rung(growth, step, a.steps)
    b = batch(a.batch, step + a.data_seed, "train", syl)
    loss, _ = recon_loss(m, b, a.bptt, a.recon) if a.recon else smat_loss(m, b, a.bptt); loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step(); opt.zero_grad()
    if (step + 1) % a.eval_every == 0 or step == a.steps - 1:
        rows.append({"step": step + 1, "syllables": syl, "loss": round(loss.item(), 3), "seconds": round(time.time() - t0),
                     "full_space": {f"{d}:{k}": score(70, d=d, steps=k) for d, k in evals}, "in_use": score(syl, d=a.d, steps=a.d + 1)})
        print(json.dumps(rows[-1]), flush=True)
if a.save:
    from rxt.train.checkpoint import save_weights
    Path(a.save).mkdir(parents=True, exist_ok=True); save_weights(m, Path(a.save))
if a.json:
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps({"command": "python tools/recall_probe.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(a).items() if k not in ("json", "threads", "save")), "rows": rows}, indent=1) + "\n")
