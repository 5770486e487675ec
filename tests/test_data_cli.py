"""`rxt data generate` and `rxt data tokenizer` from the command line, end to end, including bad input."""
import json

import pytest

from rxt.app.cli import main
from rxt.data.datasets import EpisodeDataset, collate_episodes, read_episodes
from rxt.data.tokenizer import SPECIAL_TOKENS, RxTTokenizer, load_default_tokenizer


def test_generate_writes_readable_episodes(tmp_path, capsys):
    out = tmp_path / "eps" / "train.jsonl"
    assert main(["data", "generate", "--episodes", "40", "--steps", "3", "--seed", "1", "--out", str(out)]) == 0
    assert "wrote 40 train episodes (3 steps, seed 1)" in capsys.readouterr().out
    eps = read_episodes(out, steps=3)
    assert len(eps) == 40 and all(e["interactions"][-1]["gold"] for e in eps)
    batch = collate_episodes([EpisodeDataset(eps[:4], load_default_tokenizer(), max_len=64)[i] for i in range(4)])
    assert len(batch) == 4 and batch[0]["input_ids"].shape[0] == 4


def test_generate_refuses_zero_steps(tmp_path, capsys):
    assert main(["data", "generate", "--episodes", "5", "--steps", "0", "--out", str(tmp_path / "x.jsonl")]) == 2
    assert "steps=0" in capsys.readouterr().err


def test_tokenizer_trains_and_saves(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("Once upon a time, a cat sat on a mat.\n<|endoftext|>\nThe dog ran to the park and played.\n" * 30)
    assert main(["data", "tokenizer", "--corpus", str(corpus), "--vocab-size", "280", "--out", str(tmp_path / "tok")]) == 0
    assert "byte-level BPE" in capsys.readouterr().out
    tok = RxTTokenizer.load(tmp_path / "tok")
    assert [tok.tok.id_to_token(i) for i in range(8)] == SPECIAL_TOKENS
    assert "<|endoftext|>" not in json.loads((tmp_path / "tok" / "tokenizer.json").read_text())["model"]["vocab"]
    text = "The cat ran, naïvely, to the café."
    assert tok.decode(tok.encode(text)) == text


@pytest.mark.parametrize("argv,message", [
    (["--vocab-size", "100"], "special tokens"),
    (["--corpus", "/no/such/file.txt", "--vocab-size", "300"], "/no/such/file.txt"),
])
def test_tokenizer_bad_input(tmp_path, capsys, argv, message):
    assert main(["data", "tokenizer", *argv, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_tokenizer_empty_corpus(tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("\n<|endoftext|>\n")
    assert main(["data", "tokenizer", "--corpus", str(tmp_path / "empty.txt"), "--vocab-size", "300", "--out", str(tmp_path)]) == 2
    assert "empty corpus" in capsys.readouterr().err
