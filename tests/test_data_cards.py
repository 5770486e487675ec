"""Every shipped data file matches the sha256 and size in its data card, and every card is complete.

A card in `data_cards/` lists its files in a markdown table, one row per file:
`| `rxt/assets/...` | bytes | sha256 |` (paths from the repository root). The card of generated data lists
commands instead: `| `rxt data generate ...` | bytes | sha256 |`, which this test runs.
"""
import hashlib, re, shlex
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
CARDS = sorted((ROOT / "data_cards").glob("*.md"))
ASSETS = ROOT / "rxt" / "assets"
ROW = re.compile(r"^\| `([^`]+)` \| ([\d,]+) \| ([0-9a-f]{64}) \|\s*$", re.M)
FIELDS = ("**Source:**", "**Commit:**", "**Licence:**", "**Size:**", "**Format:**")


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def rows(card: Path) -> list[tuple[str, int, str]]:
    return [(name, int(n.replace(",", "")), h) for name, n, h in ROW.findall(card.read_text(encoding="utf-8"))]


FILE_ROWS = [(c.name, *r) for c in CARDS for r in rows(c) if r[0].startswith("rxt/")]
GEN_ROWS = [(c.name, *r) for c in CARDS for r in rows(c) if r[0].startswith("rxt data generate")]


def test_cards_exist_and_are_complete():
    names = {c.stem for c in CARDS}
    for corpus in ("tinystories", "wikitext-2-heldout", "babi-tasks-v1.2-en", "rxai-sdg-fewshot", "rxt-dialogues"):
        assert corpus in names, f"data_cards/{corpus}.md is missing"
    for c in CARDS:
        text = c.read_text(encoding="utf-8")
        missing = [f for f in FIELDS if f not in text]
        assert not missing, f"{c.name} lacks the fields {missing}"
        assert rows(c), f"{c.name} has no sha256 table rows"


@pytest.mark.parametrize("card,path,size,digest", FILE_ROWS, ids=[r[1].split("/", 2)[-1] for r in FILE_ROWS])
def test_shipped_file_matches_card(card, path, size, digest):
    p = ROOT / path
    assert p.is_file(), f"{card} lists {path}, which does not exist"
    assert p.stat().st_size == size, f"{path}: {p.stat().st_size} bytes, {card} says {size}"
    assert sha256(p) == digest, f"{path}: sha256 {sha256(p)} differs from {card} ({digest}); if the change is intended, update the card"


def test_every_shipped_file_has_a_card():
    listed = {path for _, path, _, _ in FILE_ROWS}
    shipped = {p.relative_to(ROOT).as_posix() for p in ASSETS.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert shipped, "rxt/assets holds no files"
    assert not shipped - listed, f"shipped files with no data card row: {sorted(shipped - listed)}"
    assert len(listed) == len(FILE_ROWS), "a file is listed twice in the data cards"


def test_each_dataset_ships_its_licence():
    for d in (ASSETS / "data").iterdir():
        assert list(d.glob("LICENSE*")), f"{d.relative_to(ROOT)} has no licence file beside its data"


def test_shipped_data_under_15_mb():
    total = sum(p.stat().st_size for p in ASSETS.rglob("*") if p.is_file())
    assert total < 15e6, f"rxt/assets holds {total / 1e6:.1f} MB; keep package data under 15 MB"


@pytest.mark.parametrize("card,command,size,digest", GEN_ROWS, ids=[r[1][len("rxt data generate "):] for r in GEN_ROWS])
def test_generated_data_matches_card(card, command, size, digest, tmp_path):
    from rxt.data.dialogues import cli_generate
    argv = shlex.split(command)[3:]
    opts = dict(zip(argv[::2], argv[1::2]))
    args = SimpleNamespace(episodes=int(opts["--episodes"]), steps=int(opts["--steps"]), seed=int(opts["--seed"]),
                           split=opts["--split"], out=str(tmp_path / "episodes.jsonl"))
    out = cli_generate(args)
    assert out.stat().st_size == size and sha256(out) == digest, (
        f"`{command}` wrote {out.stat().st_size} bytes with sha256 {sha256(out)}; {card} says {size} / {digest}. "
        "The generator's output changed: if intended, regenerate the table in the card")


def test_row_parser_catches_a_changed_file(tmp_path):
    "The check can fail: a one-byte change to a copy of a shipped file breaks its digest."
    _, path, size, digest = FILE_ROWS[0]
    copy = tmp_path / "copy"
    data = bytearray((ROOT / path).read_bytes()); data[0] ^= 1
    copy.write_bytes(bytes(data))
    assert copy.stat().st_size == size and sha256(copy) != digest
