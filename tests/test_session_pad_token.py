"A generated token whose id is PAD's is part of the answer: the session writes it into memory as the server's engine does."
import torch
from rxt.nn.config import RxTConfig
from rxt.nn.model import ReactiveTransformer
from rxt.infer.session import RxTSession, interaction_batch
from rxt.infer.generate import greedy_answers
from rxt.data.tokenizer import PAD, BOS, Q, A


def test_a_generated_pad_id_is_kept_in_the_answer_and_the_memory():
    torch.manual_seed(0)
    model = ReactiveTransformer(RxTConfig.tiny()).eval()
    def favour_pad(module, args, out): out[..., PAD] += 100.0; return out      # the model now always says token 0
    model.decoder.head.register_forward_hook(favour_pad)
    s, query = RxTSession(model), [40, 41, 42]
    stm0 = s.stm.clone()
    said = [t for t in s.interact(query, max_new_tokens=5) if t >= 0]
    assert said == [PAD] * 5
    ids, mask = interaction_batch(torch.tensor([[BOS, Q, *query, A]]), torch.ones(1, 6, dtype=torch.long), [said])
    with torch.no_grad(): want = model.update_memory(stm0, ids, mask)
    assert torch.equal(s.stm, want)                                              # the old session wrote [EOS] alone
    assert greedy_answers(model, [[BOS, Q, *query, A]], stm0, max_new_tokens=4) == [[PAD] * 4]
