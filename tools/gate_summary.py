"""How open the memory's write gates are, stage by stage: a diagnosis for issue 11 (23_smat, "A content-aware write gate").

For each checkpoint (a run's stage folder or a checkpoint folder), plays the run's first validation episodes
(4 follow-ups, every interaction written into the STM, rxt.eval.analysis.stm_trajectory) and records, per memory
layer, the mean write gate G (the share of the attention output taken into a slot), the share of gate values that are
saturated (G < 0.01 or G > 0.99), and the STM's relative change at each update. Writes one JSON file:

    python tools/gate_summary.py --json nbs/figures/results/gate_summary_NAME.json runs/default/22_memattn_pretrain runs/default/23_smat
"""
import argparse, json, shlex, sys
from pathlib import Path
from rxt.eval.analysis import gate_activations, open_run, stm_trajectory, stm_stats

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("checkpoints", nargs="+"); ap.add_argument("--json", required=True)
ap.add_argument("--episodes", type=int, default=16, help="validation episodes played (4 follow-ups each)")
a = ap.parse_args()
out = {"meta": {"command": "python tools/gate_summary.py " + shlex.join(sys.argv[1:]), "episodes": a.episodes,
                "saturated": "share of (update, layer, episode, slot) gate values below 0.01 or above 0.99"}, "checkpoints": {}}
for ck in a.checkpoints:
    r = open_run(ck, n_episodes=a.episodes)
    t = stm_trajectory(r["model"], r["tokenizer"], r["episodes"])
    g = t["gates"].float()                                                     # (N, L, B, S)
    res = {"gate_status": r["model"].cfg.memory.gate_status,
           "gate_mean": gate_activations(g).mean(-1).tolist(),                 # per layer
           "gate_saturated": ((g < 0.01) | (g > 0.99)).float().mean((0, 2, 3)).tolist(),
           "stm_change": stm_stats(t["stm"])["change"].tolist()}              # (L, N): ‖STM_t − STM_t−1‖ / ‖STM_t−1‖
    out["checkpoints"][ck] = res
    print(f"{ck} (status {res['gate_status']}): gate mean per layer {[round(x, 3) for x in res['gate_mean']]}, "
          f"saturated {[round(x, 3) for x in res['gate_saturated']]}, STM change per update {[[round(x, 2) for x in l] for l in res['stm_change']]}")
Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
