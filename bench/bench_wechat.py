"""What the WeChat gateway adds to a message's round trip.

The whole stack on loopback with the WeChat gateway (bot/channels/wechat.py); the same
question "低保是什么" asked alternately on Rasa's REST port and through the gateway's /wechat
URL (a signed XML push, the passive reply parsed), plaintext and safe mode (AES), each sample
from a new resident so every conversation is in the same state. Sequential: the figure is the
gateway's own cost (signature, crypto, XML, its HTTP hop, the note to the case desk), not load.
"""

from __future__ import annotations

import base64
import hashlib
import statistics
import time

import httpx
import xmltodict

from bench.stack import running_stack
from bot.stack import free_port

QUESTION = "低保是什么"
SAMPLES = 300  # interleaved: a slow spell of the machine falls on all three paths alike
WARM_UP = 5
TOKEN = "bench-wechat-token"
APP_ID = "wxbench000000000"
AES_KEY = base64.b64encode(bytes(range(1, 33))).decode().rstrip("=")


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _query(i: int) -> dict:
    timestamp, nonce = str(int(time.time())), f"n{i}"
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def _xml(openid: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{QUESTION}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def run() -> dict:
    from wechatpy.crypto import WeChatCrypto

    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    port = free_port()
    # The API root is a closed port: answers within 4 s are passive and need no API call.
    with running_stack(
        wechat_token=TOKEN,
        wechat_app_id=APP_ID,
        wechat_aes_key=AES_KEY,
        wechat_port=port,
        wechat_api_url=f"http://127.0.0.1:{free_port()}",
    ) as (stack, _):
        rasa = f"{stack.rasa_url}/webhooks/rest/webhook"
        door = f"http://127.0.0.1:{port}/wechat"
        direct, plain, aes, answered = [], [], [], []
        with httpx.Client(timeout=30) as http:

            def via_rasa(i: int) -> None:
                t = time.perf_counter()
                r = http.post(rasa, json={"sender": f"bench-direct-{i}", "message": QUESTION})
                direct.append(time.perf_counter() - t)
                answered.append("依据" in "".join(m.get("text", "") for m in r.json()))

            def via_gateway(i: int) -> None:
                t = time.perf_counter()
                r = http.post(door, params=_query(i), content=_xml(f"o_bench_plain_{i}", 10_000 + i).encode())
                plain.append(time.perf_counter() - t)
                assert r.status_code == 200 and r.text, r.text

            def via_gateway_aes(i: int) -> None:
                q = _query(i)
                envelope = xmltodict.parse(
                    crypto.encrypt_message(_xml(f"o_bench_aes_{i}", 20_000 + i), q["nonce"], q["timestamp"])
                )["xml"]
                body = (
                    f"<xml><ToUserName>gh_bench</ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
                )
                t = time.perf_counter()
                r = http.post(
                    door,
                    params={**q, "encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]},
                    content=body.encode(),
                )
                # Timed to the answer, as the other two: decrypting it is the client's (WeChat's) work.
                aes.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
                if r.text != "success":  # "success": Rasa said nothing (the passive reply has no text)
                    reply = xmltodict.parse(r.text)["xml"]
                    crypto.decrypt_message(r.text, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])

            for i in range(WARM_UP):  # warm-up: first calls load the model's lazy parts, and safe mode's
                via_rasa(-1 - i), via_gateway(1000 + i), via_gateway_aes(1000 + i)
            direct.clear(), plain.clear(), aes.clear(), answered.clear()
            for i in range(SAMPLES):
                via_rasa(i)
                via_gateway(i)
                via_gateway_aes(i)
    ms = lambda v: round(v * 1000, 1)  # noqa: E731
    return {
        "samples_each": SAMPLES,
        # Whether Rasa gave the cited answer (a broken action server answers fast and empty).
        "cited_answers_share": round(sum(answered) / max(1, len(answered)), 2),
        "rasa_direct_p50_ms": ms(statistics.median(direct)),
        "gateway_plain_p50_ms": ms(statistics.median(plain)),
        "gateway_aes_p50_ms": ms(statistics.median(aes)),
        "added_plain_p50_ms": ms(statistics.median(plain) - statistics.median(direct)),
        "added_aes_p50_ms": ms(statistics.median(aes) - statistics.median(direct)),
        # The same, sample by sample: each gateway call minus the direct call just before it (the
        # two saw the same load), a steadier figure than the difference of two medians.
        "added_plain_paired_p50_ms": ms(statistics.median(p - d for p, d in zip(plain, direct, strict=True))),
        "added_aes_paired_p50_ms": ms(statistics.median(a - d for a, d in zip(aes, direct, strict=True))),
        "gateway_plain_p95_ms": ms(_pct(plain, 95)),
        "gateway_aes_p95_ms": ms(_pct(aes, 95)),
        "rasa_direct_p95_ms": ms(_pct(direct, 95)),
    }


if __name__ == "__main__":
    print(run())
