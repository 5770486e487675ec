"""The dialogue generator's test values occur in no training text: not in generated training episodes, not in the
SFT pairs, not in any shipped corpus. The check reads the corpora itself rather than trusting `seen_words`."""
import re

import pytest

from rxt.data.datasets import CORPORA, shipped_corpus
from rxt.data.dialogues import ASK, ASK_NOW, generate_episodes, sft_pairs


def words(texts) -> set[str]:
    return {w for t in texts for w in re.findall(r"\w+", t.lower())}


def texts(eps):
    for e in eps:
        for x in [e, *e["interactions"]]: yield x["query"]; yield x["answer"]


def values(eps) -> set[str]:
    return {s["value"] for e in eps for x in [e, *e["interactions"]] for s in x.get("states", [])}


@pytest.fixture(scope="module")
def training():
    eps = generate_episodes(3000, 8, seed=0) + generate_episodes(2000, 4, seed=1) + generate_episodes(1000, 1, seed=2)
    pairs = sft_pairs(3000, seed=0)
    files = [p for c in CORPORA for p in shipped_corpus(c).rglob("*") if p.is_file() and not p.name.startswith("LICENSE")]
    corpora = [p.read_text(encoding="utf-8") for p in files]
    return {"episodes": eps, "words": words(texts(eps)) | words(f"{p['query']} {p['answer']}" for p in pairs) | words(corpora)}


@pytest.fixture(scope="module")
def test_values():
    return values(generate_episodes(1000, 8, seed=0, split="test") + generate_episodes(500, 4, seed=1, split="test"))


def test_values_are_single_words(test_values):
    "Each value is one `\\w+` word, so 'occurs as a whole word' is membership in the set of words of a text."
    assert len(test_values) > 5000
    assert all(re.fullmatch(r"\w+", v) for v in test_values), [v for v in test_values if not re.fullmatch(r"\w+", v)][:5]


def test_no_test_value_in_training_text(training, test_values):
    leaked = sorted(v for v in test_values if v.lower() in training["words"])
    assert not leaked, f"{len(leaked)} test values occur in training text, e.g. {leaked[:10]}"


def test_no_validation_value_in_training_text(training):
    val = values(generate_episodes(500, 8, seed=0, split="validation"))
    leaked = sorted(v for v in val if v.lower() in training["words"])
    assert not leaked, f"{len(leaked)} validation values occur in training text, e.g. {leaked[:10]}"


def test_the_check_can_fail(training):
    "The membership test finds values that do occur: those of the training episodes, and corpus words such as 'red'."
    train = values(training["episodes"][:50])
    assert train and all(v.lower() in training["words"] for v in train)
    assert {"red", "lily", "1984"} <= training["words"]


def test_held_out_phrasings_never_asked_in_training(training):
    def pattern(t): return re.compile("".join(".+" if p.startswith("{") else re.escape(p) for p in re.split(r"(\{\w+\})", t)))
    held = [pattern(q) for _, h, _ in [*ASK.values(), *ASK_NOW.values()] for q in h]
    asked = [q for e in training["episodes"] for x in e["interactions"] if x["kind"] == "ask" for q in x["query"].split(" And ")]
    assert asked and not [q for q in asked if any(p.fullmatch(q[0].upper() + q[1:]) for p in held)]
