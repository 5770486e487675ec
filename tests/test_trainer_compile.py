"""`TrainConfig(compile=True)` (`compile = True` in a stage's settings) trains the same function as eager mode: the losses of a
fixed-seed run agree step by step within float tolerance, and the checkpoint keeps the model's own parameter names.

Compiling the tiny RxT's forward and backward with inductor takes about a minute on a 2-core CPU."""
import json

import pytest
import torch
from torch.utils.data import TensorDataset

from rxt.nn.config import RxTConfig
from rxt.nn.model import ReactiveTransformer
from rxt.train.stage import ar_loss
from rxt.train.trainer import TrainConfig, Trainer


def objective(model, batch):
    "The decoder's next-token loss, reading a zero STM (the training step of stages 1-2 without the encoder)."
    ids = batch[0]
    logits = model.decoder(ids, torch.zeros(model.cfg.n_layers, ids.shape[0], model.cfg.stm_size, model.cfg.d_model), torch.ones_like(ids))
    loss, acc, n = ar_loss(logits, ids)
    return loss, {"acc": acc}


def run(tmp_path, compile: bool) -> tuple[list[float], dict]:
    torch.manual_seed(0)
    model = ReactiveTransformer(RxTConfig.tiny())
    data = TensorDataset(torch.randint(5, 1000, (32, 48), generator=torch.Generator().manual_seed(1)))
    d = tmp_path / ("compiled" if compile else "eager")
    Trainer(model, objective, data, TrainConfig(steps=4, batch_size=8, lr=1e-3, compile=compile), d, progress=False).fit()
    losses = [json.loads(l)["loss"] for l in (d / "metrics.jsonl").read_text().splitlines() if '"loss"' in l and "valid" not in l]
    from safetensors.torch import load_file
    return losses, load_file(str(d / "checkpoint" / "model.safetensors"))


def test_compiled_and_eager_losses_agree(tmp_path):
    from torch._dynamo.utils import counters
    eager, w_eager = run(tmp_path, False)
    counters.clear()
    compiled, w_compiled = run(tmp_path, True)
    assert counters["stats"]["unique_graphs"] > 0                          # dynamo did compile the objective
    assert len(eager) == len(compiled) == 4
    assert compiled == pytest.approx(eager, rel=1e-4, abs=1e-5), (eager, compiled)
    assert sorted(w_compiled) == sorted(w_eager)                          # no "_orig_mod." prefixes
    assert max((w_compiled[k].float() - w_eager[k].float()).abs().max().item() for k in w_eager) < 1e-3


def test_compile_is_a_stage_setting():
    from rxt.train.stage import SmatParams, train_config
    assert train_config(SmatParams(compile=True)).compile and not train_config(SmatParams()).compile
    assert TrainConfig.from_dict(TrainConfig(compile=True).to_dict()).compile
