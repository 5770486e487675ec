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


@pytest.mark.parametrize("algorithm", ["impo", "dmpo"])
def test_lr_scale_scales_every_learning_rate_the_optimisers_use(tmp_path, monkeypatch, algorithm):
    "MrlParams.lr_scale multiplies each group's rate (what the run records and what AdamW gets), for either algorithm."
    from rxt.train.impo import ImpoConfig
    seen = []
    real = torch.optim.AdamW
    def adamw(groups, **kw):
        groups = list(groups)
        seen.append([g.get("lr", kw.get("lr")) if isinstance(g, dict) else kw["lr"] for g in groups])
        return real(groups, **kw)
    monkeypatch.setattr(torch.optim, "AdamW", adamw)
    for scale in (1.0, 0.1):
        mrl.train_mrl(MrlParams(run_dir=str(tmp_path / f"{algorithm}{scale}"), algorithm=algorithm, lr_scale=scale, **{**SMOKE, "max_steps": 1}))
    n = len(seen) // 2
    full, scaled = [x for s in seen[:n] for x in s], [x for s in seen[n:] for x in s]
    assert full and len(full) == len(scaled) and all(abs(b - a / 10) < 1e-12 for a, b in zip(full, scaled))
    rec = json.loads((tmp_path / f"{algorithm}0.1" / "train_config.json").read_text())
    assert rec["lr_scale"] == 0.1
    if algorithm == "impo": assert abs(rec["impo"]["memory_attn_lr"] - ImpoConfig().memory_attn_lr / 10) < 1e-12
    else: assert abs(rec["dmpo"]["lr"] - DmpoConfig().lr / 10) < 1e-12


def test_sampled_answers_keep_a_generated_pad_token(monkeypatch):
    "A token with PAD's id before [EOS] is the model's: the answer keeps it (the old filter dropped it, so the scored answer was not the sampled one)."
    from rxt.train import mrl_env
    from rxt.data.tokenizer import EOS, PAD
    steps = [torch.tensor([5, 7]), torch.tensor([PAD, EOS]), torch.tensor([6, PAD]), torch.tensor([EOS, PAD])]
    monkeypatch.setattr(mrl_env, "generate", lambda *a, **k: iter(steps))
    class M: cfg = type("C", (), {"seq_len": 64})()
    out = mrl_env.sample_answers(M(), [[1, 2], [1, 2, 3]], torch.zeros(1, 2, 1, 1), 8, torch.Generator())
    assert out == [[5, PAD, 6, EOS], [7, EOS]]
