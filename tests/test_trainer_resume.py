"""A training run killed with SIGKILL and resumed ends exactly like an uninterrupted run.

The toy run (`tests/scripts/train_toy.py`) uses dropout, random initial memories and the MoE balance loss, so
the resumed run must restore the weights, AdamW's state, the data position and every RNG to match bit for bit.
"""
import json, os, signal, subprocess, sys, time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "scripts" / "train_toy.py"
ARGS = ["--steps", "10", "--save-every", "3", "--eval-every", "5", "--dropout", "0.1"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def launch(nproc: int) -> list[str]:
    return [sys.executable] if nproc == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]


def train(run_dir: Path, args: list, nproc: int = 1):
    r = subprocess.run([*launch(nproc), str(SCRIPT), "--run-dir", str(run_dir), *args], capture_output=True, text=True,
                       timeout=180, cwd=ROOT, env=ENV)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def rows(run_dir: Path) -> list[dict]:
    p = run_dir / "metrics.jsonl"
    return [json.loads(l) for l in p.read_text().splitlines()] if p.exists() else []


def descendants(pid: int) -> list[int]:
    "`pid` and every process below it (torchrun starts its workers in their own sessions)."
    kids = []
    for t in os.listdir(f"/proc/{pid}/task"):
        kids += [int(c) for c in Path(f"/proc/{pid}/task/{t}/children").read_text().split()]
    return [pid] + [d for k in kids for d in descendants(k)]


def kill_after(run_dir: Path, args: list, step: int, nproc: int = 1) -> int:
    "Start a slowed-down run, SIGKILL it (all its processes) once `step` is logged; return the checkpoint's step."
    p = subprocess.Popen([*launch(nproc), str(SCRIPT), "--run-dir", str(run_dir), *args, "--delay", "0.3"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=ENV)
    deadline = time.time() + 120
    while not any(r["step"] >= step for r in rows(run_dir)):
        assert p.poll() is None and time.time() < deadline, "the run ended or stalled before it could be killed"
        time.sleep(0.05)
    for pid in descendants(p.pid): os.kill(pid, signal.SIGKILL)
    p.wait()
    assert not (run_dir / "metrics.json").exists(), "the run finished before it was killed"
    return torch.load(run_dir / "checkpoint" / "trainer_state.pt", weights_only=True)["step"]


def losses(run_dir: Path) -> list:
    return [(r["step"], r.get("loss"), r.get("valid_loss")) for r in rows(run_dir)]


def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    train(tmp_path / "ref", ARGS)
    killed = tmp_path / "killed"
    ck = kill_after(killed, ARGS, step=7)
    assert 6 <= ck < 10, ck                       # killed after the step-6 checkpoint, before the end
    train(killed, ARGS + ["--resume"])
    assert losses(killed) == losses(tmp_path / "ref")   # every step, exactly
    ref, res = (json.loads((d / "metrics.json").read_text()) for d in (tmp_path / "ref", killed))
    assert res["train_loss"] == ref["train_loss"] and res["valid_loss"] == ref["valid_loss"] and res["step"] == 10


@pytest.mark.slow
def test_fsdp_sigkill_then_resume_equals_uninterrupted(tmp_path):
    args = ["--per-example", "--steps", "8", "--save-every", "4", "--eval-every", "4", "--dist", "fsdp"]
    train(tmp_path / "ref", args, nproc=2)
    ck = kill_after(tmp_path / "killed", args, step=5, nproc=2)
    assert ck == 4, ck
    train(tmp_path / "killed", args + ["--resume"], nproc=2)
    assert losses(tmp_path / "killed") == losses(tmp_path / "ref")
