"""The STM analysis notebook through papermill with its default parameters, as `nbdev-test` runs it.

Two promises are checked. First, running it writes no file under `nbs/`: with `figures_dir` left
empty (and `RXT_FIGURES_DIR` unset) the six figures go to a fresh temporary folder, and every file
under `nbs/` keeps its modification time. Second, the numbers beside each figure are right: they
are recomputed here from the committed fixture (`nbs/fixtures/analysis_run/`) by other means than
`rxt.eval.analysis` (one episode at a time through the model's public API, counts taken from the
episodes, timings read from the fixture's JSON), or follow from what the quantity is (a
probability sums to 1, a cosine of a state with itself is 1, an entropy is at most ln S).
"""
import json, math, os, subprocess
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "nbs" / "41_analysis_stm.ipynb"
FIXTURE = ROOT / "nbs" / "fixtures" / "analysis_run"
FIGURES = ("stm_norm_change", "stm_gates", "stm_cosine", "stm_cross_attention", "stm_retention", "stm_latency")
N_EPISODES, N_STM, STEPS, SEED = 16, 8, 4, 0  # the notebook's default parameters


def snapshot(folder: Path) -> dict:
    "Every file under `folder` with its size and modification time (a rewrite with the same bytes still shows)."
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}


def git_status(path: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain", "--", str(path)], cwd=ROOT, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    "Run the notebook as nbdev-test would (no figures_dir); return the folder its figures went to and the nbs/ check."
    import papermill as pm
    tmp = tmp_path_factory.mktemp("analysis")
    before, status = snapshot(ROOT / "nbs"), git_status(ROOT / "nbs")
    env = {"TMPDIR": str(tmp)}
    old = {k: os.environ.get(k) for k in ("TMPDIR", "RXT_FIGURES_DIR")}
    os.environ.update(env); os.environ.pop("RXT_FIGURES_DIR", None)
    try: pm.execute_notebook(str(NB), str(tmp / NB.name), cwd=str(NB.parent), kernel_name="python3", progress_bar=False)
    finally:
        for k, v in old.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v
    after = snapshot(ROOT / "nbs")
    return {"dirs": sorted(tmp.glob("rxt-figures-*")), "nbs_changed": sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)),
            "status": (status, git_status(ROOT / "nbs"))}


def load(figures, name) -> dict:
    return json.loads((figures["dirs"][0] / f"{name}.json").read_text())


def test_running_the_notebook_writes_nothing_under_nbs(figures):
    assert figures["nbs_changed"] == [], f"running 41_analysis_stm wrote into nbs/: {figures['nbs_changed'][:10]}"
    assert figures["status"][0] == figures["status"][1]
    assert len(figures["dirs"]) == 1, f"expected one temporary figures folder, got {figures['dirs']}"
    out = figures["dirs"][0]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.{e}" for n in FIGURES for e in ("json", "png"))
    for name in FIGURES:
        png = (out / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) <= 200 * 1024, name


@pytest.fixture(scope="module")
def replay():
    "The fixture's STM states, one episode at a time through the model's public API: (N+1, L, B, S, C)."
    from rxt.nn.model import ReactiveTransformer
    from rxt.data.tokenizer import load_default_tokenizer
    from rxt.data.dialogues import generate_episodes
    from rxt.data.datasets import encode_turn
    model = ReactiveTransformer.from_pretrained(FIXTURE / "23_smat" / "checkpoint").eval()
    tok, eps = load_default_tokenizer(), generate_episodes(N_EPISODES, STEPS, SEED, split="validation")
    stm0 = model.init_stm(N_STM, generator=torch.Generator().manual_seed(SEED))  # (L, B, S, C), as the notebook draws it
    states = []
    with torch.no_grad():
        for b, ep in enumerate(eps[:N_STM]):
            stm, seq = stm0[:, b:b + 1], [stm0[:, b:b + 1]]
            for turn in [ep] + list(ep["interactions"]):
                ids = encode_turn(tok.encode(turn["query"]), tok.encode(turn["answer"]), model.cfg.seq_len)["input_ids"][None]
                stm = model.update_memory(stm, ids); seq.append(stm)
            states.append(torch.stack(seq))  # (N+1, L, 1, S, C)
    return {"stm": torch.cat(states, dim=2).double(), "episodes": eps, "S": model.cfg.stm_size}


def close(a, b, rel=1e-3, abs_=1e-4):
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert torch.allclose(a, b, rtol=rel, atol=abs_), f"max difference {(a - b).abs().max():.3g}"


def test_norm_and_change_match_an_episode_by_episode_replay(figures, replay):
    d, x = load(figures, "stm_norm_change"), replay["stm"]
    norm = torch.stack([x[t].flatten(-2).norm(dim=-1) for t in range(x.shape[0])])    # (N+1, L, B)
    change = torch.stack([(x[t] - x[t - 1]).flatten(-2).norm(dim=-1) / norm[t - 1] for t in range(1, x.shape[0])])
    assert d["turn"] == list(range(STEPS + 2)) and d["episodes"] == N_STM
    close(d["norm"], norm.mean(-1).T); close(d["change"], change.mean(-1).T)


def test_cosine_matches_the_replay_and_is_a_similarity(figures, replay):
    d, x = load(figures, "stm_cosine"), replay["stm"]
    flat = torch.nn.functional.normalize(x.permute(2, 0, 1, 3, 4).flatten(2), dim=-1)  # (B, N+1, L·S·C)
    close(d["cosine"], (flat @ flat.transpose(1, 2)).mean(0))
    cos = torch.tensor(d["cosine"])
    close(cos.diagonal(), torch.ones(STEPS + 2)); close(cos, cos.T, abs_=1e-6)
    slot = torch.tensor(d["slot_cosine"])
    assert slot.shape == (2, STEPS + 2) and (slot <= 1 + 1e-5).all() and (slot >= -1).all()


def test_gates_are_probabilities_and_their_two_means_agree(figures):
    d = load(figures, "stm_gates")
    gate, per_update = torch.tensor(d["gate"]), torch.tensor(d["per_update_mean"])  # (L, S) over updates; (L, N) over slots
    assert gate.shape == (2, 128) and per_update.shape == (2, d["updates"]) and d["updates"] == STEPS + 1
    assert (gate > 0).all() and (gate < 1).all()
    close(gate.mean(-1), per_update.mean(-1), abs_=1e-5)  # both are the mean over all (update, episode, slot) of a layer


def test_cross_attention_is_the_furthest_question_and_a_distribution(figures, replay):
    d, ep, S = load(figures, "stm_cross_attention"), replay["episodes"][0], replay["S"]
    q = [(x["distance"], -t, t) for t, x in enumerate(ep["interactions"], 1) if x.get("gold")]
    t = max(q)[2]
    assert (d["turn"], d["query"], d["answer"]) == (t, ep["interactions"][t - 1]["query"], ep["interactions"][t - 1]["answer"])
    assert d["uniform"] == pytest.approx(1 / S)
    for k in ("memory", "reset"):
        p = torch.tensor(d[k], dtype=torch.float64)                      # (L, S)
        assert p.shape == (2, S) and (p >= 0).all()
        close(p.sum(-1), torch.ones(2), abs_=1e-4)
        ent = -(p * p.clamp_min(1e-12).log()).sum(-1)
        close(d["entropy_nats"][k], ent, abs_=1e-4)
        assert (ent <= math.log(S) + 1e-4).all()


def test_retention_counts_the_questions_of_the_episodes(figures, replay):
    d, counts = load(figures, "stm_retention"), {}
    for ep in replay["episodes"]:
        for x in ep["interactions"]:
            if x.get("gold"): counts[str(x["distance"])] = counts.get(str(x["distance"]), 0) + 1
    assert d["questions"] == dict(sorted(counts.items()))
    assert set(d["recall"]) == {"rxt", "reset"}
    for curve in d["recall"].values():
        assert set(curve) == set(counts) and all(0 <= v <= 1 for v in curve.values())


def test_latency_is_read_from_the_fixture_benchmark(figures):
    d = load(figures, "stm_latency")
    recs = [r for r in json.loads((FIXTURE / "bench_turns.json").read_text()) if r.get("bench") == "turns"]
    assert d["source"] == "fixtures/analysis_run/bench_turns.json"
    for impl in ("rxt", "stateless"):
        rs = sorted((r for r in recs if r["impl"] == impl), key=lambda r: r["turn"])
        assert d[impl]["turn"] == [r["turn"] for r in rs] and len(rs) == 32
        close(d[impl]["reply_ms"], [1e3 * r["seconds"] for r in rs], rel=1e-5)
        close(d[impl]["prompt_ms"], [1e3 * r["prompt_seconds"] for r in rs], rel=1e-5)
