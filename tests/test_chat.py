"`rxt chat` driven through stdin, as `echo ... | rxt chat RUN`: streamed answers, /save, /reset, /load, /stats."
import os, subprocess, sys
from pathlib import Path
import torch
from rxt.nn.config import RxTConfig
from rxt.nn.model import ReactiveTransformer
from rxt.infer.session import RxTSession
from rxt.data.tokenizer import EOS
from rxt.app.chat import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]

def test_chat_through_stdin(tmp_path):
    torch.manual_seed(0)
    ReactiveTransformer(RxTConfig.tiny()).save_pretrained(tmp_path / "ck")
    f = tmp_path / "stm.safetensors"
    script = f"where is the cat?\n/stats\n/save {f}\n/reset\n/stats\n/load {f}\n/stats\nand the dog?\n"
    code = "import sys; from rxt.app.cli import main; sys.exit(main(sys.argv[1:]))"
    out = subprocess.run([sys.executable, "-c", code, "chat", str(tmp_path / "ck"), "--max-new-tokens", "8"], input=script,
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    model, tok = load_checkpoint(tmp_path / "ck")
    s = RxTSession(model)
    answers = []
    for m in ("where is the cat?", "and the dog?"):
        ids = [t for t in s.interact(tok.encode(m), max_new_tokens=8) if t >= 0 and t != EOS]
        answers.append(tok.decode(ids))
    assert lines[0].rstrip() == answers[0].rstrip()                   # the streamed answer, then a newline
    assert lines[1].startswith("[turn 1, STM norm") and lines[2].startswith("[STM saved")
    assert lines[3] == "[memory reset]" and lines[4].startswith("[turn 0, STM norm")
    assert lines[5].startswith("[STM loaded") and lines[6].split(",")[1] == lines[1].split(",")[1]  # /load brought turn 1's STM back
    assert lines[4].split(",")[1] != lines[1].split(",")[1]
    assert lines[7].rstrip() == answers[1].rstrip()                   # the next turn reads the loaded STM
    assert f.exists()
