"""The MoE load-balancing loss of a SMAT step covers every turn (issue 10): with the collector passed down the
forward pass, a 3-turn episode's balance loss is the sum of the three turns' losses, each computed on its own."""
from dataclasses import replace

import torch

from rxt.nn.config import RxTConfig
from rxt.nn.layers import AuxOutputs
from rxt.nn.model import ReactiveTransformer
from rxt.train.smat import smat_loss


def _turns(n: int = 3, B: int = 2, T: int = 9, vocab: int = 64) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    turns = []
    for _ in range(n):
        ids = torch.randint(8, vocab, (B, T), generator=g)
        turns.append({"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()})
    return turns


def test_smat_balance_loss_sums_the_turns():
    torch.manual_seed(0)
    model = ReactiveTransformer(replace(RxTConfig.tiny(), stm_size=16)).train()
    turns = _turns()
    _, metrics = smat_loss(model, turns)
    # each turn on its own: the same memory the SMAT step reads, a fresh collector per turn
    per_turn, stm = [], model.init_stm(2)
    for t, turn in enumerate(turns):
        if t > 0: stm = model.update_memory(stm.detach(), turns[t - 1]["input_ids"], turns[t - 1]["attention_mask"])
        aux = AuxOutputs()
        model.decoder(turn["input_ids"], stm, turn["attention_mask"], aux=aux)
        per_turn.append(aux.moe_loss())
    assert metrics["aux_loss"].shape == ()
    torch.testing.assert_close(metrics["aux_loss"], torch.stack(per_turn).sum().detach())
    # the old behaviour (only the last forward pass's loss, kept on the modules) gives a different number
    assert not torch.allclose(metrics["aux_loss"], per_turn[-1].detach())
    assert min(float(l) for l in per_turn) > 0
