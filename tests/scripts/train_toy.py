"""Train a tiny ReactiveTransformer on random ids with `rxt.train.trainer.Trainer`: the subject of the
multi-process and kill-and-resume tests. Run it as a script or under torchrun:

    python tests/scripts/train_toy.py --run-dir /tmp/run --steps 8
    torchrun --standalone --nproc_per_node 2 tests/scripts/train_toy.py --run-dir /tmp/ddp --dist ddp
"""
import argparse, json, time
from dataclasses import replace

import torch
import torch.nn.functional as F

from rxt.nn.config import RxTConfig
from rxt.nn.model import ReactiveTransformer
from rxt.nn.layers import AuxOutputs
from rxt.train.trainer import Trainer, TrainConfig


def objective(model, batch, per_example=False, delay=0.0):
    "Next-token loss reading a memory written from the same ids; `per_example`: no batch statistics."
    if delay and model.training: time.sleep(delay)
    ids = batch["input_ids"]                                           # (B, T)
    stm = model.update_memory(model.init_stm(ids.shape[0], mode="zeros" if per_example and model.cfg.stm_init != "learned" else None), ids)  # a learned initial state is not random
    aux = AuxOutputs()
    ce = F.cross_entropy(model.decode(ids[:, :-1], stm, aux=aux).flatten(0, 1), ids[:, 1:].flatten())
    return (ce if per_example else ce + aux.moe_loss()), {"ce": ce.detach(), "tokens": ids[:, 1:].numel()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run-dir", required=True)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--grad-accum", type=int, default=1)
    p.add_argument("--save-every", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=0)
    p.add_argument("--dist", default="auto")
    p.add_argument("--unfreeze", default="{}", help='JSON, e.g. {"encoder": 3}')
    p.add_argument("--find-unused", action="store_true", help="DDP find_unused_parameters (the MLM head is unused)")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--per-example", action="store_true", help="objective without batch statistics (exact DDP equality)")
    p.add_argument("--delay", type=float, default=0.0, help="seconds to sleep in each training forward pass")
    p.add_argument("--resume", action="store_true", help="continue --run-dir (pass the same objective flags again)")
    a = p.parse_args(argv)

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    train = [{"input_ids": torch.randint(8, 64, (16,), generator=g)} for _ in range(48)]
    valid = [{"input_ids": torch.randint(8, 64, (16,), generator=g)} for _ in range(12)]
    torch.manual_seed(0)
    model = ReactiveTransformer(replace(RxTConfig.tiny(), dropout=a.dropout))
    cfg = TrainConfig(steps=a.steps, batch_size=a.batch_size, grad_accum=a.grad_accum, lr=3e-3, warmup_steps=2,
                      save_every=a.save_every, eval_every=a.eval_every, dist=a.dist, unfreeze=json.loads(a.unfreeze),
                      find_unused_parameters=a.find_unused)
    obj = lambda m, b: objective(m, b, a.per_example, a.delay)
    trainer = Trainer(model, obj, train, None if a.resume else cfg, a.run_dir, valid_ds=valid, resume=a.resume, progress=False)
    summary = trainer.fit()
    if trainer.info.is_main: print(json.dumps(summary))


if __name__ == "__main__":
    main()
