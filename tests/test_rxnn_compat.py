"""RxNN compatibility: rxt computes RxNN's function on the shipped fixture, and checkpoints round-trip."""
import json, os, shutil
from dataclasses import replace
from pathlib import Path
import pytest
import torch
from safetensors.torch import load_file, save_file

os.environ["HF_HUB_OFFLINE"] = "1"
from rxt.nn.config import RxTConfig
from rxt.nn.model import ReactiveTransformer
from rxt.nn.sizes import size_report
from rxt.infer.rxnn_config import FP32_EPS, RxNNOptionError, config_from_rxnn
from rxt.infer.compat import (RxTAlpha, from_rxnn, to_rxnn, decoder_rules, encoder_rules, memory_rules, is_derived,
                              rxnn_stm, generate_decoder)

FIX = Path(__file__).parent / "fixtures" / "rxnn"
EXP = load_file(str(FIX / "expected.safetensors"))
PARTS = {n: FIX / n for n in ("decoder", "encoder", "memory_attention")}

@pytest.mark.parametrize("layout", ["components", "rxt_alpha"])
def test_same_function_as_rxnn(layout):
    model = from_rxnn(**PARTS) if layout == "components" else from_rxnn(FIX / "rxt_alpha")
    ids, mask, stm = EXP["interaction_ids"], EXP["interaction_mask"], EXP["stm_before"]
    keep, qkeep = mask.bool(), EXP["query_mask"].bool()
    assert not keep.all() and not qkeep.all()  # row 1 is padded: the masks below really drop positions
    with torch.no_grad():
        ed = model.encoder(ids, mask, stm=stm)[1]
        after = model.update_memory(stm, ids, mask)
        logits = model.decode(EXP["query_ids"], EXP["stm_after"], EXP["query_mask"])
    assert (ed - EXP["encoder_hidden_states"])[:, keep].abs().max() < 1e-4
    assert (after - EXP["stm_after"]).abs().max() < 1e-4
    assert (logits - EXP["decoder_logits"])[qkeep].abs().max() < 1e-4

def test_micro_card_keys_and_sizes():
    card = json.loads((FIX / "micro_card_state_dicts.json").read_text())
    cfg = config_from_rxnn(*(card[n]["config"] for n in PARTS))
    sizes = size_report(cfg)
    for n, rules in (("decoder", decoder_rules(cfg)), ("encoder", encoder_rules(cfg)), ("memory_attention", memory_rules(cfg))):
        keys = dict(card[n]["state_dict"])
        weights = {k for k in keys if not is_derived(k)}
        assert weights == set(rules), (n, sorted(weights ^ set(rules))[:5])
        assert sum(torch.Size(keys[k]).numel() for k in weights) == sizes[n]
    micro = RxTConfig.micro()
    for f in ("vocab_size", "d_model", "n_layers", "n_heads", "seq_len", "stm_size"): assert getattr(cfg, f) == getattr(micro, f), f
    assert (cfg.decoder.ff.n_experts, cfg.decoder.ff.top_k, cfg.decoder.ff.d_ff, cfg.encoder.ff.d_ff) == (12, 2, 256, 384)

def _same_files(a: Path, b: Path):
    x, y = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert sorted(x) == sorted(y)
    for k in x:
        assert x[k].shape == y[k].shape, k
        if not k.endswith("stm.memory"): assert torch.equal(x[k], y[k]), k  # the STM buffer is a fresh N(0, 0.02) draw
    assert json.loads((a / "config.json").read_text()) == json.loads((b / "config.json").read_text())

def test_round_trips(tmp_path):
    _same_files(FIX / "rxt_alpha", to_rxnn(from_rxnn(FIX / "rxt_alpha"), tmp_path / "alpha"))
    to_rxnn(from_rxnn(**PARTS), tmp_path / "parts", combined=False)
    for n in PARTS: _same_files(FIX / n, tmp_path / "parts" / n)
    _same_files(FIX / "decoder", to_rxnn(from_rxnn(decoder=FIX / "decoder"), tmp_path / "dec"))
    torch.manual_seed(0)
    tiny = RxTConfig.tiny()
    m = ReactiveTransformer(replace(tiny, stm_init="standard", norm_eps=FP32_EPS, decoder=replace(tiny.decoder, final_norm=False))).eval()
    m2 = from_rxnn(to_rxnn(m, tmp_path / "tiny"))
    ids, stm = torch.randint(8, 1024, (2, 9)), m.init_stm(2)
    with torch.no_grad(): assert torch.equal(m2.decode(ids, m2.update_memory(stm, ids)), m.decode(ids, m.update_memory(stm, ids)))
    with pytest.raises(RxNNOptionError, match="final_norm=True"): to_rxnn(ReactiveTransformer(tiny), tmp_path / "no")

def test_hub_id_offline(tmp_path, monkeypatch):
    import huggingface_hub.constants as c
    snap = tmp_path / "models--ReactiveAI--RxT-Alpha-Fixture" / "snapshots" / ("0" * 40)
    shutil.copytree(FIX / "rxt_alpha", snap)
    (snap.parent.parent / "refs").mkdir(); (snap.parent.parent / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path))
    m = from_rxnn("ReactiveAI/RxT-Alpha-Fixture")
    assert torch.equal(m.decoder.head.bias, from_rxnn(FIX / "rxt_alpha").decoder.head.bias)

def test_standalone_decoder_generates():
    dec = from_rxnn(decoder=FIX / "decoder")
    prompt = torch.tensor([[2, 5, 10, 11, 6]])
    toks = list(generate_decoder(dec, prompt, rxnn_stm(FIX / "decoder"), max_new_tokens=4, temperature=0.0))
    assert len(toks) >= 1 and all(0 <= int(t) < 96 for t in toks)

def _rxnn_tokenizer(folder: Path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from rxt.data.tokenizer import SPECIAL_TOKENS, default_corpus_files
    t = Tokenizer(models.BPE()); t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    t.train_from_iterator([default_corpus_files()[0].read_text()[:20000]], trainers.BpeTrainer(vocab_size=96, special_tokens=SPECIAL_TOKENS[:7]))
    t.save(str(folder / "tokenizer.json"))

def test_micro_supervised_card_snippet(tmp_path, capsys):
    folder = tmp_path / "RxT-Alpha-Micro-Supervised"
    shutil.copytree(FIX / "rxt_alpha", folder); _rxnn_tokenizer(folder)
    torch.manual_seed(0)
    model = RxTAlpha.from_pretrained(str(folder))
    model.share_components()
    seq_len = 256
    stm_init_state = model.tokenize_full_interaction('System prompt like', 'Initial memory for the model', max_seq_len=seq_len)
    model.init_stm_state(**stm_init_state)
    def interaction(query: str):
        tokenized_query = model.tokenize_query(query, max_seq_len=seq_len)
        for token_id in model.interact(**tokenized_query, max_seq_len=seq_len, temperature=1.0):
            if token_id == -1: print('\n', '[Start memory update...]')
            elif token_id == -2: print('[Memory updated]')
            else: print(model.stringify_token(token_id), end='')
    before = model.stm.clone()
    interaction('Tell me a story about...')
    after = model.stm.clone()
    interaction('What was that story about?')
    out = capsys.readouterr().out
    assert out.count('[Start memory update...]') == 2 and out.count('[Memory updated]') == 2
    assert not out.startswith('\n') and not torch.equal(before, after)
    torch.manual_seed(0)  # a fixed seed gives the same answer
    m2 = RxTAlpha.from_pretrained(str(folder)); m2.share_components(); m2.init_stm_state(**stm_init_state)
    q = m2.tokenize_query('Tell me a story about...', max_seq_len=seq_len)
    first = [t for t in m2.interact(**q, max_seq_len=seq_len)]
    assert first[-2:] == [-1, -2] and len(first) > 2

def _damaged(tmp_path, edit_sd=None, edit_conf=None, truncate=False):
    d = tmp_path / "bad"; shutil.copytree(FIX / "rxt_alpha", d)
    sd, conf = load_file(str(d / "model.safetensors")), json.loads((d / "config.json").read_text())
    if edit_sd: edit_sd(sd)
    if edit_conf: edit_conf(conf)
    save_file(sd, str(d / "model.safetensors")); (d / "config.json").write_text(json.dumps(conf))
    if truncate: (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:5000])
    return d

@pytest.mark.parametrize("kw, message", [
    (dict(edit_sd=lambda sd: sd.pop("memory_attention.model.mean_stm_norm.weight")), "model.mean_stm_norm.weight"),
    (dict(edit_sd=lambda sd: sd.update({"decoder.model.layers.0.ff.experts.1.fc2.bias": torch.zeros(31)})), "model.layers.0.ff.experts.1.fc2.bias has shape (31,)"),
    (dict(edit_sd=lambda sd: sd.update({"encoder.model.extra.weight": torch.zeros(1)})), "model.extra.weight"),
    (dict(edit_conf=lambda c: c["memory_attention_config"].update(use_tanh_residual_gate=True, residual_gate_type="elementwise")), "residual_gate_type='elementwise'"),
    (dict(edit_conf=lambda c: c["decoder_config"].update(ff_activation="gelu")), "ff_activation='gelu'"),
    (dict(edit_conf=lambda c: c.update(memory_attention_variant="self")), "memory_attention_variant='self'"),
    (dict(truncate=True), "model.safetensors"),
])
def test_bad_checkpoints(tmp_path, kw, message):
    with pytest.raises((ValueError, FileNotFoundError), match=__import__("re").escape(message)): from_rxnn(_damaged(tmp_path, **kw))

def test_missing_file(tmp_path):
    shutil.copytree(FIX / "decoder", tmp_path / "d"); (tmp_path / "d" / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="model.safetensors"): from_rxnn(decoder=tmp_path / "d")
