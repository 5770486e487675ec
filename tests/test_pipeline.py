"The chained curriculum: every stage notebook through papermill, each starting from the previous checkpoint."
import json, shutil
from pathlib import Path

import pytest
from rxt.app.pipeline import run_pipeline
from rxt.train.stage import STAGES, BaselineParams, JointLMParams, SFTParams, SmatParams, run_params
from rxt.train.smat import smat_ladder

CHAIN = [s.name for s in STAGES if s.chain]
SIDE = [s.name for s in STAGES if not s.chain]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path):
    "A copy of the notebooks and the smoke settings in a scratch project root."
    shutil.copytree(ROOT / "nbs", tmp_path / "nbs", ignore=shutil.ignore_patterns("_*", ".ipynb_checkpoints"))
    shutil.copy(ROOT / "tests/fixtures/smoke.ini", tmp_path / "settings.ini")
    return tmp_path


def test_smoke_pipeline_chains_the_stages(project):
    res = run_pipeline("settings.ini", run="smoke", root=project, log=lambda *a: None)
    run = project / "runs" / "smoke"
    for s in CHAIN:
        d = run / s
        assert (d / f"{s}.ipynb").exists() and (d / "config.json").exists() and (d / "checkpoint" / "model.safetensors").exists()
        assert json.loads((d / "metrics.json").read_text())["status"] == "completed"
    # each stage started from the previous one's checkpoint
    for prev, s in zip(CHAIN, CHAIN[1:]):
        assert json.loads((run / s / "metrics.json").read_text())["init_from"] == str(run / prev)
    assert set(res["recall_memory"]) and (run / "transcript.md").read_text().startswith("### Episode")
    # the stateless baseline trained beside the chain, sized after the RxT
    assert SIDE == ["25_baseline"] and (run / "25_baseline" / "chat" / "checkpoint" / "model.safetensors").exists()
    base = json.loads((run / "25_baseline" / "metrics.json").read_text())
    assert base["status"] == "completed"
    # ... replaying stages 1, 2 and 4 with their own steps and batch sizes, read from the params.json each stage wrote
    for phase, s, cls in (("lm", "20_joint_lm", JointLMParams), ("sft", "21_interaction_sft", SFTParams), ("chat", "23_smat", SmatParams)):
        ran = run_params(run / s, cls)
        assert base["phases"][phase] == [ran.steps, ran.batch_size], (phase, base["phases"])
        assert json.loads((run / "25_baseline" / phase / "metrics.json").read_text())["steps"] == ran.steps
    smat = run_params(run / "23_smat", SmatParams)     # the ladder it replays is the one stage 4 ran (smoke.ini's, not the default)
    assert (smat.ladder, smat.steps, smat.ladder_length) == ("0.5:1/1:1,2", 3, SmatParams.ladder_length)
    draw = smat_ladder(BaselineParams(rxt_run=str(run / "20_joint_lm")).rxt_stages()["chat"])
    assert [e["interactions"] for e in draw(2, 0, 3)] == [e["interactions"] for e in smat_ladder(smat)(2, 0, 3)]
    # the smoke settings reached the notebooks (the defaults would train 1200 SMAT steps)
    assert json.loads((run / "23_smat" / "metrics.json").read_text())["steps"] == 3
    # never overwritten silently; --resume skips finished stages
    with pytest.raises(FileExistsError, match="--resume"):
        run_pipeline("settings.ini", run="smoke", root=project, log=lambda *a: None)
    logs = []
    run_pipeline("settings.ini", run="smoke", root=project, resume=True, log=logs.append)
    assert sum("skipped" in l for l in logs) == len(STAGES)


def test_pipeline_refuses_unknown_parameters(project):
    ini = project / "settings.ini"
    ini.write_text(ini.read_text().replace("[23_smat]\n", "[23_smat]\nstepz = 3\n"))
    with pytest.raises(ValueError, match=r"23_smat has no parameters \['stepz'\]"):
        run_pipeline("settings.ini", run="bad", root=project, log=lambda *a: None)
    assert not (project / "runs" / "bad").exists()

def test_the_pipeline_test_set_is_the_one_rxt_report_plays(tmp_path):
    "One test set: the episodes `rxt pipeline` writes for its final check are those `rxt report` generates at the defaults."
    from dataclasses import replace
    from rxt.app.pipeline import DataSettings, EvalSettings, RunSettings, prepare_data
    from rxt.data.datasets import read_episodes
    from rxt.data.values import EVAL_FOLLOWUPS, eval_distances
    from rxt.eval.retention import report_episodes
    import inspect
    from rxt.eval.evaluation import report
    paths = prepare_data(tmp_path, RunSettings(), replace(DataSettings(), n_train=4))
    written = read_episodes(paths["episodes_test"])
    n = inspect.signature(report).parameters["n_episodes"].default
    assert n == EvalSettings().n_episodes == DataSettings().n_valid   # report's default count, the pipeline's check and its file agree
    assert written == report_episodes(n, EVAL_FOLLOWUPS)
    assert {q["distance"] for e in written for q in e["interactions"] if q.get("kind") == "ask"} >= set(eval_distances())
    last = [e["interactions"][-1] for e in written]
    assert all(q["kind"] == "ask" and q["distance"] in eval_distances() for q in last)   # the last question sits at an evaluated distance


def _fake_stages(monkeypatch, behave):
    "Replace the kernels by functions: each records when it ran and the OMP_NUM_THREADS it was launched with, then `behave(name)`."
    import os, threading, time
    import rxt.app.pipeline as pl
    seen, lock = {}, threading.Lock()
    def run_stage(nb, overrides, kernel="python3", log=print):
        d, t0 = Path(overrides["run_dir"]), time.perf_counter()
        with lock: seen[d.name] = {"start": t0, "omp": os.environ.get("OMP_NUM_THREADS"), "plan": overrides.get("plan")}
        behave(d.name)
        d.mkdir(parents=True, exist_ok=True); (d / "metrics.json").write_text('{"status": "completed"}')
        seen[d.name]["end"] = time.perf_counter()
        return seen[d.name]["end"] - t0
    monkeypatch.setattr(pl, "run_stage", run_stage)
    monkeypatch.setattr(pl, "retention_report", lambda *a, **k: {"recall_memory": {}, "recall_reset": {}, "transcript": []})
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    return seen

def test_the_baseline_trains_beside_the_chain_from_stage_2(project, monkeypatch):
    "After stage 1 the baseline's kernel runs beside stages 2 onwards; meanwhile every kernel gets half the cores, the plan holds what it replays."
    import threading, torch
    started, beside = threading.Event(), threading.Event()
    def behave(name):  # stage 2 waits for the baseline's start (no race with stage 3's), the baseline for stage 3's
        if name == "21_interaction_sft": assert beside.wait(30), "the baseline did not start beside stage 2"
        if name == "22_memattn_pretrain": started.set()
        if name == "25_baseline": beside.set(); assert started.wait(30), "the chain did not go on while the baseline ran"
    seen = _fake_stages(monkeypatch, behave)
    import rxt.app.pipeline as pl
    plans, real = [], pl.Progress
    monkeypatch.setattr(pl, "Progress", lambda plan, *a, **k: plans.append(plan) or real(plan, *a, **k))
    res = run_pipeline("settings.ini", run="side", root=project, log=lambda *a: None)
    assert plans[0]["25_baseline"] == 2 + 2 + 3                                            # smoke.ini's stages 1, 2 and 4, not the defaults
    half = str(max(1, torch.get_num_threads() // 2))
    assert res["beside"] == ["25_baseline"] and set(res["stage_seconds"]) == set(CHAIN) | {"25_baseline"}
    assert seen["20_joint_lm"]["end"] <= seen["25_baseline"]["start"] <= seen["22_memattn_pretrain"]["start"]
    assert seen["25_baseline"]["end"] > seen["22_memattn_pretrain"]["start"]            # it overlapped the chain
    assert seen["20_joint_lm"]["omp"] is None and seen["25_baseline"]["omp"] == half
    assert seen["21_interaction_sft"]["omp"] == seen["22_memattn_pretrain"]["omp"] == half
    import os; assert "OMP_NUM_THREADS" not in os.environ                                 # restored once the baseline finished
    plan = project / "runs" / "side" / "plan"
    assert seen["25_baseline"]["plan"] == str(plan)
    assert run_params(plan / "23_smat", SmatParams).steps == 3                            # smoke.ini's, written before stage 4 ran
    assert BaselineParams(rxt_run=str(project / "runs/side/20_joint_lm"), plan=str(plan)).phases()["chat"] == (3, run_params(plan / "23_smat", SmatParams).batch_size)

def test_a_failure_beside_the_chain_is_raised_after_it_and_table_order_without_concurrency(project, monkeypatch):
    import os
    def boom(name):
        if name == "25_baseline": raise RuntimeError("baseline kernel died")
    seen = _fake_stages(monkeypatch, boom)
    with pytest.raises(RuntimeError, match="baseline kernel died"):
        run_pipeline("settings.ini", run="fail", root=project, log=lambda *a: None)
    assert set(seen) == set(CHAIN) | {"25_baseline"} and "OMP_NUM_THREADS" not in os.environ   # the chain ran to its end first
    ini = project / "settings.ini"
    ini.write_text(ini.read_text() + "\n[run]\nconcurrent = False\n")
    seen = _fake_stages(monkeypatch, lambda name: None)
    res = run_pipeline("settings.ini", run="seq", root=project, log=lambda *a: None)
    assert res["beside"] == [] and all(v["omp"] is None for v in seen.values())
    assert seen["23_smat"]["end"] <= seen["25_baseline"]["start"] <= seen["25_baseline"]["end"] <= seen["30_mrl"]["start"]
