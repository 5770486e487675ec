"""Can the decoder answer from the previous interaction's encoded data, and how fast does it learn to?

A probe for stage 4's read phase (`read_loss`, 23_smat "Reading before remembering"): one-fact episodes asked one turn
later (story, fact, question); the decoder decodes the question turn with its memory cross-attention reading the
encoded data of the fact turn (ED, (L, B, T, C)) instead of the STM. Mode `ed` trains the decoder alone, `ed_enc` the
encoder too. Every 100 steps it scores 256 test-split episodes (values in no training text): the teacher-forced exact
match of the whole answer reading ED ("exact") and reading the STM the model's memory attention writes ("stm").
Then `tools/recall_probe.py --init OUT` trains the STM path from the saved model.

    python tools/read_probe.py runs/default/22_memattn_pretrain 800 ed_enc /tmp/m_ed_enc
"""
import sys, time, json, torch, torch.nn.functional as F
from rxt.data.dialogues import generate_episodes
from rxt.data.values import ValueSpace
from rxt.data.datasets import EpisodeDataset, collate_episodes
from rxt.train.stage import stage_model, stage_tokenizer, ar_loss
from rxt.train.checkpoint import load_weights
torch.set_num_threads(1); torch.manual_seed(0)
init, steps, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]   # mode: ed (decoder reads ED of the fact turn) | ed_enc (encoder trained too)
tok = stage_tokenizer(); m = stage_model("nano", init, tok.vocab_size); load_weights(m, init)
def batch(n, seed, split):
    eps = generate_episodes(n, 2, seed, split, ["single"], ValueSpace(syllables=70), distances=[1])
    return collate_episodes(list(EpisodeDataset(eps, tok, 96)))
def read(turns, grad_enc):
    fact, last = turns[-2], turns[-1]
    with torch.set_grad_enabled(grad_enc and torch.is_grad_enabled()):
        ed = m.encode(fact["input_ids"], fact["attention_mask"])
    return m.decoder(last["input_ids"], ed, last["attention_mask"], mem_mask=fact["attention_mask"])
test = batch(256, 10**6 + 7, "test")
params = [p for n, p in m.named_parameters() if mode == "ed_enc" or n.startswith("decoder")]
opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01); t0 = time.time()
for step in range(steps):
    b = batch(32, step, "train"); loss, _, _ = ar_loss(read(b, mode == "ed_enc"), b[-1]["labels"]); loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step(); opt.zero_grad()
    if (step + 1) % 100 == 0:
        m.eval()
        with torch.no_grad():
            lg = read(test, False)[:, :-1]; lab = test[-1]["labels"][:, 1:]
            ex = ((lg.argmax(-1) == lab) | (lab == -100)).all(-1).float().mean().item()
            stm = m.init_stm(256)
            for t in test[:-1]: stm = m.update_memory(stm, t["input_ids"], t["attention_mask"])
            lg = m.decoder(test[-1]["input_ids"], stm, test[-1]["attention_mask"])[:, :-1]
            ex_stm = ((lg.argmax(-1) == lab) | (lab == -100)).all(-1).float().mean().item()
        m.train(); print(json.dumps({"step": step + 1, "loss": round(loss.item(), 3), "exact": round(ex, 3), "stm": round(ex_stm, 3), "s": round(time.time() - t0)}), flush=True)

if len(sys.argv) > 4:
    from rxt.train.checkpoint import save_weights
    from pathlib import Path
    Path(sys.argv[4]).mkdir(parents=True, exist_ok=True); save_weights(m, Path(sys.argv[4]))
