"bAbI as an external benchmark (issue 11): the `babi` profile's data, ragged episodes batched length by length, and its scoring."
import json
from pathlib import Path

from rxt.app.pipeline import DataSettings, RunSettings, prepare_data, read_settings, section, stage_inputs
from rxt.data.datasets import EpisodeDataset, read_episodes
from rxt.data.babi import babi_episodes
from rxt.data.dialogues import recall_score
from rxt.data.tokenizer import load_default_tokenizer
from rxt.train.baseline import ConversationDataset
from rxt.train.stage import SmatParams, stage_named
from rxt.train.smat import train_smat

ROOT = Path(__file__).resolve().parents[1]


def test_babi_profile_settings():
    cfg = read_settings(ROOT / "settings.ini", "babi")
    assert section(cfg, "data").source == "babi" and section(cfg, "run").skip == "30_mrl"
    assert SmatParams(**cfg["23_smat"]).ladder == ""            # the stories themselves, not the generated ladder
    assert section(read_settings(ROOT / "settings.ini"), "data").source == "dialogues"   # the default profile is untouched


def test_babi_data_split_and_inputs(tmp_path):
    paths = prepare_data(tmp_path, RunSettings(), DataSettings(source="babi", babi_chunk=4))
    train, valid, test = (read_episodes(paths[f"episodes_{s}"]) for s in ("train", "validation", "test"))
    assert [e["task"] for e in test[:20]] == list(range(1, 21))          # interleaved: the report's first N cover every task
    key = lambda e: (e["task"], json.dumps([e["query"]] + [t["query"] for t in e["interactions"]]))
    assert not {key(e) for e in valid} & {key(e) for e in train}          # held-out stories are not trained on
    assert {key(e) for e in test} == {key(e) for t in range(1, 21) for e in babi_episodes(t, "test", chunk=4)}
    assert json.loads((tmp_path / "data" / "babi.json").read_text()) == {"chunk": 4, "augment": 0}
    (tmp_path / "d").mkdir()
    inp = stage_inputs(stage_named("23_smat"), tmp_path, "prev", paths)
    assert inp["episode_steps"] == 0 and inp["valid_episodes"] == paths["episodes_validation"]
    assert "valid_episodes" not in stage_inputs(stage_named("23_smat"), tmp_path, "prev", prepare_data(tmp_path / "d", RunSettings(), DataSettings(n_train=4, n_valid=2, episode_steps=2)))


def test_ragged_episodes_train_length_by_length(tmp_path):
    eps = [e for t in (1, 4, 6) for e in babi_episodes(t, "train", chunk=4)[:12]]   # 5-, 2- and longer episodes
    f, v = tmp_path / "train.jsonl", tmp_path / "valid.jsonl"
    f.write_text("".join(json.dumps(e) + "\n" for e in eps)); v.write_text("".join(json.dumps(e) + "\n" for e in eps[::5]))
    assert len(set(EpisodeDataset(eps).bucket_keys)) > 1
    s = train_smat(SmatParams(run_dir=str(tmp_path / "run"), episodes=str(f), valid_episodes=str(v), episode_steps=0, ladder="",
                              steps=3, batch_size=4, warmup_steps=1, eval_every=0, n_valid=6, n_eval=2))
    assert s["status"] == "completed" and s["valid_loss"] > 0


def test_baseline_conversations_keep_their_last_tokens():
    tok, e = load_default_tokenizer(), babi_episodes(3, "train")[0]
    full, cut = ConversationDataset([e], tok, 192), ConversationDataset([e], tok, 192, max_len=300)
    assert len(full[0]["input_ids"]) > 300 and cut[0]["input_ids"].tolist() == full[0]["input_ids"][-300:].tolist()
    assert cut.bucket_keys == [len(e["interactions"]) + 1]


def test_babi_answer_listing_every_candidate_scores_zero():
    q = next(t for t in babi_episodes(1, "test")[0]["interactions"] if "gold" in t)
    assert recall_score(q["gold"][0], q["gold"], q["others"]) == 1
    assert recall_score(" ".join(q["gold"] + q["others"]), q["gold"], q["others"]) == 0
    assert set(q["others"]) | set(q["gold"]) == {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"}


def test_long_profile_trains_and_tests_distance_16(tmp_path):
    "The `long` profile's stage 4 climbs to distance 16 and its test set asks at 16 (the default profile stops at 8)."
    from dataclasses import replace
    from rxt.data.values import EVAL_FOLLOWUPS, eval_distances
    from rxt.train.smat import parse_ladder, parse_lengths
    cfg = read_settings(ROOT / "settings.ini", "long")
    smat, data = SmatParams(**cfg["23_smat"]), section(cfg, "data")
    assert set(parse_ladder(smat.ladder)[-1][1]) == set(range(1, 17)) and max(n for _, n in parse_lengths(smat.ladder_length)) == 16
    assert smat.bptt == 16 and data.episode_steps == 16
    paths = prepare_data(tmp_path, RunSettings(), replace(data, n_train=2))
    asked = {e["interactions"][-1]["distance"] for e in read_episodes(paths["episodes_test"])}
    assert asked == set(eval_distances(16)) and 16 in asked and max(EVAL_FOLLOWUPS, data.episode_steps) == 16
