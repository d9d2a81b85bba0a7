"""Ask the whole bot (Rasa → actions → service) some messages and print what a resident sees.

    python -m bench.transcripts                 # the examples of the answers issue
    python -m bench.transcripts "低保咋个申请" "我是渠县的"   # one conversation, in order

Each default example is its own conversation; messages given on the command line are
one conversation. Buttons are shown as [title].
"""

from __future__ import annotations

import sys
import uuid

import httpx

from bench.stack import running_stack

EXAMPLES = [
    "低保每个月几号发钱",
    "我有辆三轮车能吃低保不",
    "我家娃儿考上大学了，学费交不起咋办",
    "瘫痪在床的老人能领护理补贴吗",
    "低保金是按人头算还是按户算的",
    "請問特困供養怎麼申請",
    "我在市区租房子住能申请低保吗",
    "住在县城里的人低保标准是多少",
    "临时救助能给多少钱",
]


def show(client: httpx.Client, rasa_url: str, sender: str, message: str) -> None:
    r = client.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message})
    print(f"居民：{message}")
    for m in r.json():
        buttons = " ".join(f"[{b['title']}]" for b in m.get("buttons") or [])
        print(f"助手：{m.get('text', '')} {buttons}".rstrip())
    print()


def main(argv: list[str]) -> None:
    with running_stack() as (stack, _), httpx.Client(timeout=60) as client:
        if argv:
            sender = f"demo-{uuid.uuid4().hex[:8]}"
            for message in argv:
                show(client, stack.rasa_url, sender, message)
        else:
            for message in EXAMPLES:
                show(client, stack.rasa_url, f"demo-{uuid.uuid4().hex[:8]}", message)


if __name__ == "__main__":
    main(sys.argv[1:])
