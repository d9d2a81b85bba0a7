"""A WeChat conversation through the whole assistant, printed as a transcript.

    .venv/bin/python scripts/wechat_demo.py

Starts the real stack (Rasa, action server, service) with the WeChat gateway on free
loopback ports and a throwaway data folder, and a local fake of WeChat's servers (the
customer-service API and access_token; tests/support/fake_wechat.py). Then plays a
resident: follows the account, asks in safe mode (AES) and in plaintext, hands over to
a person; a supervisor replies from the case desk and the reply reaches the resident
through the customer-service API. Every line the resident would see is printed.
"""

from __future__ import annotations

import base64
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import xmltodict  # noqa: E402

from bench.stack import running_stack  # noqa: E402
from bot.cases.desk import Actor, CaseDesk  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.stack import free_port  # noqa: E402
from tests.support.fake_wechat import FakeWeChat, Push  # noqa: E402

TOKEN, APP_ID, APP_SECRET = "demo-wechat-token", "wxdemo0000000000", "demo-app-secret"
AES_KEY = base64.b64encode(bytes(range(1, 33))).decode().rstrip("=")
OPENID = "o_demo_resident"
SUPERVISOR = Actor("user:demo-sup", "supervisor", None, "值班长")


def show(who: str, text: str) -> None:
    lines = text.strip().splitlines() or [""]
    print(f"{who}: {lines[0]}")
    for line in lines[1:]:
        print(f"{' ' * (len(who) + 2)}{line}")


def main() -> int:
    port = free_port()
    push = Push(TOKEN, APP_ID, AES_KEY)
    with (
        FakeWeChat(APP_ID, APP_SECRET) as wechat,
        running_stack(
            wechat_token=TOKEN,
            wechat_app_id=APP_ID,
            wechat_app_secret=APP_SECRET,
            wechat_aes_key=AES_KEY,
            wechat_port=port,
            wechat_api_url=wechat.url,
        ) as (stack, _),
    ):
        door = f"http://127.0.0.1:{port}/wechat"

        def passive(r: httpx.Response, encrypted: bool = False) -> str:
            assert r.status_code == 200, r.text
            if r.text == "success":
                return ""
            body = push.decrypt_reply(r.text) if encrypted else r.text
            return xmltodict.parse(body)["xml"]["Content"]

        def says(text: str, aes: bool = False) -> str:
            show("居民", text)
            xml = push.text(OPENID, text)
            if aes:
                query, body = push.encrypted(xml)
                reply = passive(httpx.post(door, params=query, content=body.encode(), timeout=30), encrypted=True)
            else:
                reply = passive(httpx.post(door, params=push.query(), content=xml.encode(), timeout=30))
            show("公众号", reply or "（被动回复为空，答案经客服消息接口送达）")
            return reply

        show("居民", "（关注公众号）")
        show("公众号", passive(httpx.post(door, params=push.query(), content=push.event(OPENID, "subscribe").encode())))
        says("低保怎么申请", aes=True)
        says("我是渠县的")
        reply = says("我想找工作人员帮我看看")
        number = re.search(r"GD[0-9A-Z]+", reply)
        if not number:
            print("（没有转人工，演示到此为止）")
            return 1
        time.sleep(1)  # the note of the message is stored beside Rasa's answer
        desk = CaseDesk(Database(stack.settings.resolved_database_url()))
        desk.reply(number[0], "您好，您的材料清单我们已经看了，明天上午给您回电话。", SUPERVISOR)
        show("（工作台）", f"值班长在工单 {number[0]} 里回复")
        show("公众号（客服消息）", wechat.wait_for(OPENID, "明天上午给您回电话", timeout=30))
        transcript = [t["text"] for t in desk.case_record(number[0]).transcript if t["role"] == "resident"]
        show("（工单里的群众原话）", "\n".join(transcript))
    return 0


if __name__ == "__main__":
    sys.exit(main())
