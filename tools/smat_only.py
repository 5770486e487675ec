"""Stage 4 alone (or after stages 1-3 with --pretrain): train a preset from scratch with the distance ladder, then measure retention on test values.

The quickest honest check of the open-vocabulary memory (issue 11) when the whole curriculum does not fit:
no language-model stages, no baseline. Writes the checkpoint under RUN (default runs/smat_only), the
retention result as JSON (default nbs/figures/results/retention_smat_only.json), and prints the tables.
The evaluation plays every episode kind (rxt.data.dialogues.KINDS) on test values, so a model trained on one
kind is also measured on the others.

    python tools/smat_only.py [--run runs/smat_only] [--kinds single] [--values 0.5:10/1:70] [--steps 1500] [--batch 16] [--threads 2] [--resume] [--worded PATH]
                              [--init-from RUN/22_memattn_pretrain] [--seed 1] [--loss-turns all|follow-ups|last]
"""
import argparse, json, shlex, time
from pathlib import Path
import torch
from rxt.data.dialogues import KINDS
from rxt.train.stage import SmatParams
from rxt.train.smat import train_smat
from rxt.eval.retention import evaluate_retention, format_retention

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--run", default="runs/smat_only"); ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--preset", default="nano"); ap.add_argument("--kinds", default=SmatParams.ladder_kinds)
ap.add_argument("--ladder", default=SmatParams.ladder); ap.add_argument("--values", default=SmatParams.ladder_values); ap.add_argument("--steps", type=int, default=SmatParams.steps)
ap.add_argument("--batch", type=int, default=SmatParams.batch_size); ap.add_argument("--lr", type=float, default=SmatParams.lr)
ap.add_argument("--min-lr-ratio", type=float, default=SmatParams.min_lr_ratio, help="the learning rate's floor as a fraction of --lr (1: constant after the warm-up)")
ap.add_argument("--episodes", type=int, default=200, help="test episodes for the evaluation (all kinds)")
ap.add_argument("--length", default=SmatParams.ladder_length, help="the ladder's longest episode in follow-ups, or its schedule ('0.5:0/1:8')")
ap.add_argument("--resume", action="store_true")
ap.add_argument("--init-from", default="", help="start stage 4 from this run folder (a stage-3 or stage-4 run) instead of from scratch")
ap.add_argument("--pretrain", action="store_true", help="first run stages 1-3 (joint LM, SFT, memory attention) at their default budgets, then stage 4 from them")
ap.add_argument("--loss-turns", default="all" if SmatParams.decode_first else "follow-ups", choices=("all", "last", "follow-ups"),
                help="all: every answer of the episode (SmatParams.decode_first=True); follow-ups: every turn's but the opening one's, decoded from "
                     "the blank STM (decode_first=False, the stage's default since it was measured; the older files' commands without it meant all); "
                     "last: only the last (asked) turn's answer, the decoder skipped on the others")
ap.add_argument("--seed", type=int, default=SmatParams.seed, help="the stage's seed (its ladder episodes)")
ap.add_argument("--json", default="nbs/figures/results/retention_smat_only.json")
ap.add_argument("--worded", default="", help="also score the same test questions asked in trained wordings (as rxt report does) into this JSON")
a = ap.parse_args()
if a.loss_turns == "last":  # an experiment, measured in 23_smat: the memory is written from every turn, only the question is scored
    import rxt.train.smat as smat_module
    from rxt.nn.layers import AuxOutputs
    from rxt.train.stage import ar_loss
    def last_turn_loss(model, turns, bptt=1, decode_first=True):  # decode_first: train_smat passes it; the last turn alone is decoded here
        stm, aux = model.init_stm(turns[0]["input_ids"].shape[0]), AuxOutputs()
        for t in range(1, len(turns)):
            if (t - 1) % bptt == 0: stm = stm.detach()
            stm = model.update_memory(stm, turns[t - 1]["input_ids"], turns[t - 1]["attention_mask"])
        loss, acc, n = ar_loss(model.decoder(turns[-1]["input_ids"], stm, turns[-1]["attention_mask"], aux=aux), turns[-1]["labels"])
        return loss + aux.moe_loss(), {"answer_acc": acc, "last_turn_acc": acc, "aux_loss": aux.moe_loss().detach(), "tokens": n}
    smat_module.smat_loss = last_turn_loss
torch.set_num_threads(a.threads)
t0 = time.time()
init = a.init_from
if a.pretrain and init: ap.error("--pretrain and --init-from exclude each other")
if a.pretrain:  # the curriculum's earlier stages, each from the one before, as rxt pipeline chains them
    from rxt.train.stage import JointLMParams, SFTParams, MemAttnParams
    from rxt.train.joint_lm import train_joint_lm
    from rxt.train.sft import train_sft
    from rxt.train.memattn_pretrain import train_memattn
    for P, train in ((JointLMParams, train_joint_lm), (SFTParams, train_sft), (MemAttnParams, train_memattn)):
        kw = {"preset": a.preset} if not init else {"init_from": init}
        train(P(run_dir=f"{a.run}/{P.stage}", progress=True, resume=a.resume, **kw)); init = f"{a.run}/{P.stage}"
p = SmatParams(init_from=init, run_dir=f"{a.run}/23_smat", preset=a.preset, n_episodes=64, n_valid=32, eval_every=0, progress=True, resume=a.resume,
               ladder_kinds=a.kinds, ladder=a.ladder, ladder_values=a.values, ladder_length=a.length, steps=a.steps, batch_size=a.batch, lr=a.lr, min_lr_ratio=a.min_lr_ratio, seed=a.seed,
               decode_first=a.loss_turns == "all")
summary = train_smat(p)
train_s = time.time() - t0
res = evaluate_retention(a.run, n_episodes=a.episodes, steps=8, seed=0, split="test", distances=(1, 2, 4, 8), kinds=KINDS)
res.meta |= {"train_seconds": round(train_s), "command": "python tools/smat_only.py " + " ".join(
    f"--{k} {shlex.quote(str(v))}" for k, v in (("preset", a.preset), ("kinds", a.kinds), ("ladder", a.ladder), ("values", a.values), ("length", a.length), ("steps", a.steps), ("batch", a.batch), ("lr", a.lr), ("min-lr-ratio", a.min_lr_ratio), ("loss-turns", a.loss_turns), ("seed", a.seed))) + (" --pretrain" if a.pretrain else "") + (f" --init-from {a.init_from}" if a.init_from else ""),
    "stage_summary": {k: v for k, v in summary.items() if k != "checkpoint"}}
Path(a.json).parent.mkdir(parents=True, exist_ok=True); res.to_json(a.json)
if a.worded:
    from rxt.eval.retention import report_episodes
    worded = evaluate_retention(a.run, steps=8, episodes=report_episodes(a.episodes, 8, phrasings="trained"))
    worded.meta |= {"command": res.meta["command"] + f" --worded {a.worded}"}; worded.to_json(a.worded)
    print("trained wordings:", format_retention(worded))
print(format_retention(res)); print(f"trained in {train_s:.0f} s, evaluated in {time.time() - t0 - train_s:.0f} s")
