"""How often a batched greedy answer differs from the same conversation decoded alone, and how close to a tie those tokens were.

`rxt serve` decodes many conversations in one batch; `RxTSession` decodes one. Both run the same function, but a batch
of another size (and left padding) sums in another order, so two logits tied within float rounding can swap. This plays
N conversations of M turns through the server's `Engine` (all admitted at once, so they share every decode step) and
through `RxTSession` alone, greedily, and counts the answers that differ; for each, it prints the solo decoding's margin
between its chosen token and the batched one's at the first differing position (a margin near 0 is a near-tie).

    python tools/batch_vs_solo.py --run runs/default --conversations 32 --turns 8 --json PATH
"""
import argparse, json, tempfile, threading
from pathlib import Path
import torch
from rxt.nn.config import RxTConfig
from rxt.nn.model import ReactiveTransformer
from rxt.data.tokenizer import A, BOS, EOS, Q
from rxt.train.stage import stage_tokenizer
from rxt.infer.session import RxTSession
from rxt.eval.retention import report_episodes
from rxt.app.store import SQLiteStore
from rxt.app.engine import Engine, Turn

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--run", default="", help="a pipeline run whose trained RxT (23_smat) is used; empty: an untrained --preset")
ap.add_argument("--preset", default="tiny"); ap.add_argument("--conversations", type=int, default=32)
ap.add_argument("--turns", type=int, default=8); ap.add_argument("--new", type=int, default=24, help="answer budget in tokens")
ap.add_argument("--threads", type=int, default=2); ap.add_argument("--json", default="")
a = ap.parse_args(); torch.set_num_threads(a.threads); torch.manual_seed(0)
tok = stage_tokenizer()
model = (ReactiveTransformer.from_pretrained(Path(a.run) / "23_smat" / "checkpoint") if a.run else ReactiveTransformer(getattr(RxTConfig, a.preset)())).eval()
eps = report_episodes(a.conversations, max(a.turns - 1, 1))
convs = [[e["query"]] + [x["query"] for x in e["interactions"]][:a.turns - 1] for e in eps]   # real user messages of the test episodes

eng = Engine(model, SQLiteStore(Path(tempfile.mkdtemp(prefix="rxt-bvs-")) / "stm.sqlite"), max_batch=a.conversations)
cids = [eng.new_conversation() for _ in convs]
batched, errors = [[] for _ in convs], []
for t in range(a.turns):   # turn t of every conversation submitted together: one batch of N rows decodes them
    left, done = [len(convs)], threading.Event()
    def emit(x):                                                     # runs on the engine's thread: must not block
        if isinstance(x, int): return                               # a token; then ("done", info) or an exception
        if isinstance(x, Exception): errors.append(x)
        left[0] -= 1
        if left[0] == 0: done.set()
    turns = [eng.submit(Turn(cid, tok.encode(c[t]), emit, max_new_tokens=a.new)) for cid, c in zip(cids, convs)]
    done.wait()
    if errors: raise errors[0]
    for i, tr in enumerate(turns): batched[i].append(tr.answer[:tr.answer.index(EOS) + 1] if EOS in tr.answer else tr.answer)
eng.close()

rows, diffs = [], 0
for i, c in enumerate(convs):
    s = RxTSession(model)
    for t, msg in enumerate(c):
        solo = [x for x in s.interact(tok.encode(msg), max_new_tokens=a.new) if x >= 0]
        solo = solo[:solo.index(EOS) + 1] if EOS in solo else solo
        same = solo == batched[i][t]
        row = {"conversation": i, "turn": t + 1, "same": same, "tokens": len(solo)}
        if not same:
            diffs += 1
            k = next((j for j, (x, y) in enumerate(zip(solo, batched[i][t])) if x != y), min(len(solo), len(batched[i][t])))
            row["first_difference"] = k
            if k < min(len(solo), len(batched[i][t])):   # the solo logits at that position, from a fresh session replaying turns < t
                r = RxTSession(model)
                for m in c[:t]: list(r.interact(tok.encode(m), max_new_tokens=a.new))
                p = [BOS, Q, *tok.encode(msg), A] + solo[:k]          # the solo answer's prefix, teacher-forced
                with torch.no_grad(): lg = model.decoder(torch.tensor([p]), r.stm, torch.ones(1, len(p), dtype=torch.long))[0, -1].float()
                row["margin"] = float(lg[solo[k]] - lg[batched[i][t][k]])
        rows.append(row)
n = len(rows)
out = {"run": a.run or f"untrained {a.preset}", "conversations": a.conversations, "turns": a.turns, "answers": n,
       "different": diffs, "tokens": sum(r["tokens"] for r in rows),
       "margins": [r["margin"] for r in rows if "margin" in r], "rows": rows}
print(f"{out['run']}: {diffs}/{n} answers differ between the batch of {a.conversations} and solo decoding "
      f"({out['tokens']} solo tokens); margins at the first difference: {[round(m, 6) for m in out['margins']]}")
if a.json: Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
