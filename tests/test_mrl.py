"Stage 5 (MRL) as a stage: exact resume after an interruption, and a non-finite loss stopping either algorithm with the step named."
import json

import pytest
import torch
from rxt.nn.model import ReactiveTransformer
from rxt.train import mrl
from rxt.train.dmpo import DmpoConfig
from rxt.train.mrl_env import MrlReward
from rxt.train.stage import MrlParams

SMOKE = dict(max_steps=2, iterations=1, batch_size=2, max_new_tokens=4, update_epochs=1)


def _untimed(run):
    return [{k: v for k, v in json.loads(l).items() if k != "time_s"} for l in (run / "metrics.jsonl").read_text().splitlines()]


def test_resume_after_an_interruption_equals_an_uninterrupted_run(tmp_path, monkeypatch):
    full = mrl.train_mrl(MrlParams(run_dir=str(tmp_path / "full"), **SMOKE))
    real = mrl.impo_pass
    def crash(*a, **k):
        if a[-1].startswith("iteration 2"): raise KeyboardInterrupt("simulated crash")
        return real(*a, **k)
    monkeypatch.setattr(mrl, "impo_pass", crash)
    with pytest.raises(KeyboardInterrupt):
        mrl.train_mrl(MrlParams(run_dir=str(tmp_path / "cut"), **SMOKE))
    assert json.loads((tmp_path / "cut" / "metrics.json").read_text())["status"] == "interrupted"
    monkeypatch.setattr(mrl, "impo_pass", real)
    cont = mrl.train_mrl(MrlParams(run_dir=str(tmp_path / "cut"), resume=True, **SMOKE))
    assert full["status"] == cont["status"] == "completed" and cont["iterations"] == 2
    a, b = (ReactiveTransformer.from_pretrained(tmp_path / x / "checkpoint") for x in ("full", "cut"))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert _untimed(tmp_path / "full") == _untimed(tmp_path / "cut")


@pytest.mark.parametrize("algorithm, kw, where", [("impo", {"reward": MrlReward(scale=float("nan"))}, "iteration 1 (rung of 1 steps), episode step 1"),
                                                  ("dmpo", {"dmpo": DmpoConfig(beta=float("nan"))}, "at iteration 1 (rung of 1 steps)")])
def test_non_finite_loss_stops_the_stage_with_the_step_named(tmp_path, algorithm, kw, where):
    with pytest.raises(FloatingPointError, match=r"non-finite .*" + where.replace("(", r"\(").replace(")", r"\)")):
        mrl.train_mrl(MrlParams(run_dir=str(tmp_path / "run"), algorithm=algorithm, **SMOKE), **kw)
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["status"].startswith("stopped: non-finite")


def test_unknown_algorithm_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown"):
        mrl.train_mrl(MrlParams(run_dir=str(tmp_path / "run"), algorithm="ppo"))


@pytest.mark.parametrize("kw", [{"compile": True}, {"min_lr_ratio": 1.0}])
def test_trainer_settings_are_refused_not_ignored(kw):
    "MRL runs its own optimiser loop, so the trainer's settings would do nothing: a settings.ini that sets one is refused."
    with pytest.raises(ValueError, match="own loop"): MrlParams(**kw)
    assert MrlParams().schedule() == (1, 2, 4) and MrlParams(max_steps=5).schedule() == (1, 2, 4, 5)
