"`rxt serve` over real HTTP: answers equal RxTSession's, same-conversation turns serialised, disconnects, refusals."
import threading, time
from concurrent.futures import ThreadPoolExecutor
import pytest, torch

pytest.importorskip("starlette"); pytest.importorskip("uvicorn")
import httpx, uvicorn
from rxt.nn.config import RxTConfig
from rxt.nn.model import ReactiveTransformer
from rxt.infer.session import RxTSession
from rxt.data.tokenizer import EOS
from rxt.train.joint_lm import stage_tokenizer
from rxt.app.store import SQLiteStore, stm_from_bytes, stm_to_bytes
from rxt.app.serve import create_app, _free_port

NEW = 10  # answer budget of every turn

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    torch.manual_seed(0)
    model, tok = ReactiveTransformer(RxTConfig.tiny()).eval(), stage_tokenizer()
    app = create_app(model, tok, SQLiteStore(tmp_path_factory.mktemp("serve") / "stm.sqlite"), max_new_tokens=NEW)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True); th.start()
    deadline = time.time() + 30
    while not srv.started:
        assert time.time() < deadline, "server did not start"; time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        yield http, model, tok, app.state.engine
    srv.should_exit = True; th.join(timeout=30)

def replay(model, tok, messages):
    "Greedy answer ids of each message and the final STM, by RxTSession alone."
    s = RxTSession(model)
    answers = [[t for t in s.interact(tok.encode(m), max_new_tokens=NEW) if t >= 0] for m in messages]
    return [a[:a.index(EOS)] if EOS in a else a for a in answers], s.stm

def stored(http, eng, cid):
    r = http.get(f"/v1/conversations/{cid}/stm"); assert r.status_code == 200
    return stm_from_bytes(r.content, eng.model_id, eng.config_hash)

def test_batched_answers_equal_session(server):
    http, model, tok, eng = server
    convs = {http.post("/v1/conversations").json()["id"]: [f"turn {t} of conversation {k}: where is the {k} cat?" for t in range(3)]
             for k in range(6)}
    def talk(cid):
        return [http.post(f"/v1/conversations/{cid}/messages", json={"message": m}).json() for m in convs[cid]]
    steps0 = eng.steps
    with ThreadPoolExecutor(6) as ex: got = dict(zip(convs, ex.map(talk, convs)))
    ref_tokens = 0
    for cid, msgs in convs.items():
        answers, stm = replay(model, tok, msgs)
        assert [r["answer_ids"] for r in got[cid]] == answers
        assert [r["turn"] for r in got[cid]] == [1, 2, 3]
        s, n = stored(http, eng, cid)
        assert n == 3 and s.shape == stm.shape and torch.allclose(s, stm, atol=1e-5)
        ref_tokens += sum(r["tokens"] for r in got[cid])
    assert eng.steps - steps0 < ref_tokens  # some steps decoded several conversations at once

def test_same_conversation_serialised(server):
    http, model, tok, eng = server
    cid = http.post("/v1/conversations").json()["id"]
    msgs = ["the first message", "a second message sent at the same time"]
    with ThreadPoolExecutor(2) as ex:
        rs = list(ex.map(lambda m: http.post(f"/v1/conversations/{cid}/messages", json={"message": m}).json(), msgs))
    assert sorted(r["turn"] for r in rs) == [1, 2]
    order = [msgs[i] for i in sorted(range(2), key=lambda i: rs[i]["turn"])]  # the order the server ran them
    answers, stm = replay(model, tok, order)
    assert [r["answer_ids"] for r in sorted(rs, key=lambda r: r["turn"])] == answers  # the second read the first's STM
    s, n = stored(http, eng, cid)
    assert n == 2 and torch.allclose(s, stm, atol=1e-5)

def test_disconnect_mid_stream_completes_and_stores(server):
    http, model, tok, eng = server
    cid = http.post("/v1/conversations").json()["id"]
    msg = "a client that hangs up"
    with http.stream("POST", f"/v1/conversations/{cid}/messages", json={"message": msg, "stream": True, "stop_at_eos": False}) as r:
        first = next(line for line in r.iter_lines() if line.startswith("data:"))  # one token, then hang up
    assert "text" in first
    for _ in range(300):
        if http.get(f"/v1/conversations/{cid}").json()["turn"] == 1: break
        time.sleep(0.1)
    s, n = stored(http, eng, cid)
    ref = RxTSession(model); list(ref.interact(tok.encode(msg), max_new_tokens=NEW, stop_at_eos=False))
    assert n == 1 and torch.allclose(s, ref.stm, atol=1e-5)  # the whole turn was completed and stored

def test_bad_requests_get_4xx_naming_the_problem(server):
    http, model, tok, eng = server
    cid = http.post("/v1/conversations").json()["id"]
    m = f"/v1/conversations/{cid}/messages"
    foreign = stm_to_bytes(model.init_stm(1), 0, "another-model", eng.config_hash)
    cases = [(http.post("/v1/conversations/nope/messages", json={"message": "hi"}), 404, "unknown conversation"),
             (http.get("/v1/conversations/nope"), 404, "unknown conversation"),
             (http.delete("/v1/conversations/nope"), 404, "unknown conversation"),
             (http.post(m, json={}), 422, "'message'"),
             (http.post(m, json={"message": ""}), 422, "empty"),
             (http.post(m, json={"message": "word " * 400}), 422, "interaction length"),
             (http.post(m, json={"message": "hi", "temperature": "hot"}), 422, "'temperature'"),
             (http.post(m, json={"message": "hi", "max_new_tokens": 0}), 422, "'max_new_tokens'"),
             (http.post(m, content=b"{not json"), 400, "not valid JSON"),
             (http.post(m, json=[1, 2]), 400, "JSON object"),
             (http.post(m, content=b"x" * (1 << 17)), 413, "over"),
             (http.put(f"/v1/conversations/{cid}/stm", content=foreign), 422, "written by model"),
             (http.put(f"/v1/conversations/{cid}/stm", content=b"garbage!"), 422, "not a safetensors"),
             (http.post("/v1/chat/completions", json={"messages": []}), 422, "'messages'"),
             (http.post("/v1/chat/completions", json={"conversation_id": "nope", "messages": [{"role": "user", "content": "hi"}]}), 404, "unknown"),
             (http.get("/v2/nothing"), 404, "no route")]
    for r, status, words in cases:
        assert r.status_code == status and words in r.json()["error"], (r.request.method, r.request.url, r.status_code, r.text)
    assert http.post(m, json={"message": "word " * 400, "truncate": True}).status_code == 200  # the flag truncates instead
    assert http.get(f"/v1/conversations/{cid}").json()["turn"] == 1  # refusals stored nothing

def test_openai_endpoint_and_lifecycle(server):
    http, model, tok, eng = server
    r = http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "ignored"}, {"role": "user", "content": "hello"}]}).json()
    cid = r["conversation_id"]
    answers, stm = replay(model, tok, ["hello"])
    assert r["choices"][0]["message"]["content"] == tok.decode(answers[0])
    with http.stream("POST", "/v1/chat/completions", json={"conversation_id": cid, "stream": True, "messages": [{"role": "user", "content": "again"}]}) as s:
        lines = [l for l in s.iter_lines() if l]
    assert lines[-1] == "data: [DONE]" and http.get(f"/v1/conversations/{cid}").json()["turn"] == 2
    exported = http.get(f"/v1/conversations/{cid}/stm").content
    assert http.post(f"/v1/conversations/{cid}/reset").json()["turn"] == 0
    assert http.put(f"/v1/conversations/{cid}/stm", content=exported).json()["turn"] == 2  # import brings turn 2 back
    assert torch.equal(stored(http, eng, cid)[0], stm_from_bytes(exported, eng.model_id, eng.config_hash)[0])
    sys_id = http.post("/v1/conversations", json={"system": "You are a helpful bot."}).json()["id"]
    s = RxTSession(model); s.init_from_prompt(tok.encode("You are a helpful bot."))
    assert torch.allclose(stored(http, eng, sys_id)[0], s.stm, atol=1e-5)
    assert http.delete(f"/v1/conversations/{cid}").status_code == 200 and http.get(f"/v1/conversations/{cid}").status_code == 404
    assert http.get("/health").json()["status"] == "ok"
