"""How well each stage's checkpoint answers a one-fact question reading its STM, and reading the fact turn's encoded data directly.

Teacher-forced exact match of the whole answer on 256 test-split one-fact episodes asked one turn later (story, fact,
question), for each checkpoint folder given: "stm" (the memory written from story and fact), "ed_fact" (the decoder
reading the fact turn's encoded data, as stage 1 reads a text's own), "reset" (a blank STM). Each pair is (exact, NLL).

    python tools/read_zero.py runs/default/21_interaction_sft runs/default/22_memattn_pretrain runs/default/23_smat
"""
import sys, torch, torch.nn.functional as F
from rxt.data.dialogues import generate_episodes
from rxt.data.values import ValueSpace
from rxt.data.datasets import EpisodeDataset, collate_episodes
from rxt.train.stage import stage_model, stage_tokenizer
from rxt.train.checkpoint import load_weights
torch.set_num_threads(1); torch.manual_seed(0)
tok = stage_tokenizer()
for init in sys.argv[1:]:
    m = stage_model("nano", init, tok.vocab_size); load_weights(m, init); m.eval()
    eps = generate_episodes(256, 2, 10**6 + 7, "test", ["single"], ValueSpace(syllables=70), distances=[1])
    turns = collate_episodes(list(EpisodeDataset(eps, tok, 96)))
    last = turns[-1]; lab = last["labels"][:, 1:]
    def score(lg):
        lg = lg[:, :-1]; ex = ((lg.argmax(-1) == lab) | (lab == -100)).all(-1).float().mean().item()
        return round(ex, 3), round(F.cross_entropy(lg.flatten(0, 1), lab.flatten(), ignore_index=-100).item(), 3)
    with torch.no_grad():
        stm = m.init_stm(256)
        for t in turns[:-1]: stm = m.update_memory(stm, t["input_ids"], t["attention_mask"])
        out = {"stm": score(m.decoder(last["input_ids"], stm, last["attention_mask"]))}
        fact = turns[-2]; ed = m.encode(fact["input_ids"], fact["attention_mask"])
        out["ed_fact"] = score(m.decoder(last["input_ids"], ed, last["attention_mask"], mem_mask=fact["attention_mask"]))
        out["reset"] = score(m.decoder(last["input_ids"], m.init_stm(256), last["attention_mask"]))
        print(init, out, flush=True)
