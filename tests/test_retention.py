"""The retention evaluation (`rxt.eval.retention`): its interval, its scoring, its counts, and its control.

Tiny untrained models: the recall figures are noise, but what is counted, scored and reset is not.
"""
from collections import Counter

import pytest
import torch

from rxt.data.dialogues import generate_episodes
from rxt.data.tokenizer import load_default_tokenizer
from rxt.eval.retention import (HistoryAnswerer, RetentionResult, RxTAnswerer, format_retention, play, retention,
                                value_type, wilson)
from rxt.nn.config import RxTConfig
from rxt.nn.model import DecoderOnlyLM, ReactiveTransformer
from rxt.train.baseline import baseline_config

torch.set_num_threads(1)  # tiny models: one thread is as fast, and immune to a busy machine


@pytest.fixture(scope="module")
def setup():
    tok = load_default_tokenizer()
    eps = generate_episodes(5, 6, seed=3, split="test")
    torch.manual_seed(0)
    cfg = RxTConfig.tiny()
    return tok, eps, cfg, ReactiveTransformer(cfg)


def questions(eps):
    "(episode id, turn) of every question turn, the story being turn 0."
    return {(e["id"], t): q for e in eps for t, q in enumerate([e] + e["interactions"]) if q.get("gold")}


class Oracle:
    "Answers with the gold values, plus the first competing value when `cheat`."
    model, turn_len = "oracle", 128
    def __init__(self, tok, cheat=False): self.tok, self.cheat = tok, cheat
    def start(self, n): pass
    def answer(self, rows, turns, max_new_tokens):
        return [self.tok.encode(" and ".join(t["turn"]["gold"] + t["turn"]["others"][:1] * self.cheat)) for t in turns]
    def nll(self, rows, turns): return [0.0] * len(rows)
    def truncated(self, rows, turns, max_new_tokens): return [False] * len(rows)
    def observe(self, rows, turns): pass


def test_wilson_matches_hand_computation():
    lo, hi = wilson(8, 10)  # p = .8, z² = 3.8416: (0.99208 ∓ 1.96·√0.025604) / 1.38416
    assert lo == pytest.approx(0.49016, abs=1e-4) and hi == pytest.approx(0.94332, abs=1e-4)
    assert wilson(0, 10)[0] == 0 and wilson(10, 10)[1] == 1 and wilson(0, 0) == (0.0, 1.0)
    assert wilson(5, 10, z=2.576)[0] < wilson(5, 10)[0]  # 99% is wider than 95%


def test_value_type():
    assert value_type([{"key": "pet_name"}]) == "name" and value_type([{"key": "phone"}]) == "number"
    assert value_type([{"key": "place"}, {"key": "color"}]) == "word" and value_type([{"key": "code"}, {"key": "toy"}]) == "mixed"


def test_oracles_score_one_and_zero(setup):
    tok, eps, _, _ = setup
    res = retention({"gold": Oracle(tok), "listing": Oracle(tok, cheat=True)}, eps, tok, batch_size=2)
    qs = questions(eps)
    assert len(res.records["gold"]) == len(qs) and all(r["recall"] == 1 for r in res.records["gold"])
    listed = [r for r in res.records["listing"] if qs[r["episode"], r["turn"]]["others"]]
    assert len(listed) > len(qs) // 2 and all(r["recall"] == 0 for r in listed)


def test_counts_equal_the_episodes_questions(setup):
    tok, eps, cfg, net = setup
    base = DecoderOnlyLM(baseline_config(cfg, context_turns=3))  # a 384-token window: some questions are cut
    systems = {"rxt": RxTAnswerer(net, model="tiny"), "rxt_reset": RxTAnswerer(net, reset=True, model="tiny"),
               "baseline": HistoryAnswerer(base, cfg.seq_len, model="tiny LM")}
    res = retention(systems, eps, tok, batch_size=2, max_new_tokens=4)
    qs = questions(eps)
    for by, key in (("distance", lambda q: q["distance"]), ("type", lambda q: value_type(q["facts"])), ("kind", None)):
        want = Counter(key(q) for q in qs.values()) if key else Counter(e["mode"] for e in eps for q in e["interactions"] if q.get("gold"))
        for name in systems:
            assert {r["group"]: r["n"] for r in res.table(by) if r["system"] == name} == dict(want), (by, name)
    s = {r["system"]: r for r in res.summary()}
    assert len({r["tokens"] for r in s.values()}) == 1  # the same answer tokens for every system
    assert s["baseline"]["truncated"] > 0 and s["rxt"]["truncated"] == 0
    assert RetentionResult.from_json(res.to_json()).summary() == res.summary()
    md = format_retention(res)
    assert "tiny LM" in md and all(f"| {d} | {n} |" in md for d, n in Counter(q["distance"] for q in qs.values()).items())


def test_baseline_context_fits_its_window(setup):
    tok, eps, cfg, _ = setup
    base = HistoryAnswerer(DecoderOnlyLM(baseline_config(cfg, context_turns=2)), cfg.seq_len)
    base.start(1); base.history[0] = list(range(5, 400))
    assert len(base._context(0, [1, 2, 3], room=8)) == base.window - 8
    assert base.truncated([0], [{"query_ids": [1] * 10, "input_ids": [1] * 20}], 8) == [True]
    base.history[0] = [5] * 10
    assert base.truncated([0], [{"query_ids": [1] * 10, "input_ids": [1] * 20}], 8) == [False]


class STMOnly(RxTAnswerer):
    "Answers with one token that depends only on the STM it reads."
    def reply(self, prompts, stm, max_new_tokens):
        return [[10 + int(abs(float(stm[:, j].sum())) * 1e4) % 500] for j in range(stm.shape[1])]


def test_reset_reads_a_fresh_stm(setup):
    tok, eps, _, net = setup
    assert len({r["answer"] for r in play(STMOnly(net, reset=True), eps, tok, batch_size=2)}) == 1
    assert len({r["answer"] for r in play(STMOnly(net), eps, tok, batch_size=2)}) > 1  # with memory, the check fails


def test_lock_step_batches_equal_one_episode_at_a_time(setup):
    tok, eps, cfg, net = setup
    for system in (RxTAnswerer(net), HistoryAnswerer(DecoderOnlyLM(baseline_config(cfg, context_turns=3)), cfg.seq_len)):
        one, batched = (sorted((r["episode"], r["turn"], r["answer"], r["nll"]) for r in play(system, eps, tok, batch_size=b, max_new_tokens=6))
                        for b in (1, len(eps)))
        assert [x[:3] for x in one] == [x[:3] for x in batched]
        assert [x[3] for x in one] == pytest.approx([x[3] for x in batched], abs=1e-3)
