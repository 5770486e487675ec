"""Multi-process training: two CPU processes under torchrun (gloo) train like one process on the same global batch.

Each test runs `tests/scripts/train_toy.py` (a tiny ReactiveTransformer on random ids) once in one process and
once in two, and compares the per-step training loss, gradient norm and validation loss. The objective is a mean
over examples (`--per-example`: no MoE balance loss, no random memory), so splitting a batch over processes or
micro-batches changes nothing but float rounding.
"""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "scripts" / "train_toy.py"
COMMON = ["--per-example", "--steps", "6", "--eval-every", "3", "--save-every", "3"]


def train(run_dir: Path, args: list, nproc: int = 1, ok: bool = True) -> subprocess.CompletedProcess:
    "Run the toy training in `nproc` processes (torchrun when > 1)."
    launch = [sys.executable] if nproc == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    r = subprocess.run([*launch, str(SCRIPT), "--run-dir", str(run_dir), *args], capture_output=True, text=True,
                       timeout=180, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if ok: assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def series(run_dir: Path, key: str) -> list[tuple[int, float]]:
    return [(r["step"], r[key]) for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines()) if key in r]


def assert_same_run(a: Path, b: Path, tol: float = 1e-5):
    for key in ("loss", "grad_norm", "valid_loss"):
        sa, sb = series(a, key), series(b, key)
        assert [s for s, _ in sa] == [s for s, _ in sb] and sa, key
        diff = max(abs(x - y) for (_, x), (_, y) in zip(sa, sb))
        assert diff < tol, f"{key}: one process {sa} vs two {sb} (max diff {diff:.2e})"
    summary = json.loads((b / "metrics.json").read_text())
    assert summary["world_size"] == 2 and summary["status"] == "completed"


def test_ddp_two_processes_equal_one(tmp_path):
    # 2 processes × 2 micro-batches of 2 = 1 process × 1 batch of 8; the encoder unfreezes at step 3 (DDP is re-wrapped)
    args = COMMON + ["--unfreeze", '{"encoder": 3, "mlm_head": 1000}']
    train(tmp_path / "one", args)
    train(tmp_path / "two", args + ["--dist", "ddp", "--grad-accum", "2"], nproc=2)
    assert_same_run(tmp_path / "one", tmp_path / "two")


def test_ddp_unused_parameters_are_named_then_allowed(tmp_path):
    # the toy objective never uses the MLM head: DDP must be told, and the error says how
    r = train(tmp_path / "unused", COMMON + ["--dist", "ddp"], nproc=2, ok=False)
    assert r.returncode != 0 and "find_unused_parameters=True" in r.stderr and "mlm_head" in r.stderr, r.stderr[-3000:]
    train(tmp_path / "one", COMMON)
    train(tmp_path / "two", COMMON + ["--dist", "ddp", "--find-unused"], nproc=2)
    assert_same_run(tmp_path / "one", tmp_path / "two")


def test_fsdp_two_processes_equal_one(tmp_path):
    train(tmp_path / "one", COMMON)
    train(tmp_path / "two", COMMON + ["--dist", "fsdp", "--grad-accum", "2"], nproc=2)
    assert_same_run(tmp_path / "one", tmp_path / "two")
    # the gathered checkpoint is a whole model that loads on its own
    from rxt.nn.model import ReactiveTransformer
    ReactiveTransformer.from_pretrained(tmp_path / "two" / "checkpoint")
