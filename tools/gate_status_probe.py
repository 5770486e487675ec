"""tools/smat_only.py with the memory's residual gates reading a learned slot status (`MemoryAttentionConfig(gate_status="linear")`).

An experiment for issue 11 (a content-aware write gate), measured in 23_smat ("A content-aware write gate"). The
stage-3 run given by --init-from was trained with the mean status; its weights are copied into a model whose gates
read the status through Linear(C→1), started at the mean (weights 1/C, bias 0: the same function), written as a
checkpoint under RUN/init_linear_status, and stage 4 starts from that. Every other argument is tools/smat_only.py's:

    python tools/gate_status_probe.py --run runs/gate_linear --init-from runs/default/22_memattn_pretrain --json PATH
"""
import argparse, dataclasses, json, runpy, shlex, sys
from pathlib import Path
from rxt.nn.pretrained import checkpoint_config
from rxt.nn.model import ReactiveTransformer
from rxt.train.checkpoint import checkpoint_dir, save_weights, WEIGHTS

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
ap.add_argument("--run", default="runs/smat_only"); ap.add_argument("--init-from", required=True)
ap.add_argument("--json", default="nbs/figures/results/retention_smat_only.json"); ap.add_argument("--worded", default="")
a, rest = ap.parse_known_args()
cfg = checkpoint_config(a.init_from)
if cfg.memory.gate_status != "mean": sys.exit(f"{a.init_from} already has gate_status={cfg.memory.gate_status!r}: run tools/smat_only.py on it")
model = ReactiveTransformer(dataclasses.replace(cfg, memory=dataclasses.replace(cfg.memory, gate_status="linear")))
from safetensors.torch import load_file
missing, unexpected = model.load_state_dict(load_file(str(checkpoint_dir(a.init_from) / WEIGHTS)), strict=False)
new = [k for k in missing if ".gate.status." in k]
tied = [k for k in missing if k not in new]  # the shared embedding, saved once under another name
assert not unexpected and new and all(k.endswith("embedding.weight") for k in tied), (missing, unexpected)
out = Path(a.run) / "init_linear_status" / "checkpoint"; out.mkdir(parents=True, exist_ok=True)
save_weights(model, out)
print(f"{a.init_from} → {out}: {len(new)} slot-status tensors added at the mean", flush=True)
sys.argv = ["tools/smat_only.py", "--run", a.run, "--init-from", str(out.parent), "--json", a.json] + (["--worded", a.worded] if a.worded else []) + rest
runpy.run_path(str(Path(__file__).with_name("smat_only.py")), run_name="__main__")
for f in filter(None, (a.json, a.worded)):  # name this command, not the stage-4 run it made, in the results files
    res = json.loads(Path(f).read_text())
    cmd = res["meta"]["command"].split(" --init-from ")[0].replace("tools/smat_only.py", "tools/gate_status_probe.py")
    res["meta"]["command"] = cmd + f" --init-from {shlex.quote(a.init_from)}" + (f" --worded {a.worded}" if f == a.worded else "")
    Path(f).write_text(json.dumps(res, indent=1) + "\n")
