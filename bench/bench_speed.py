"""Speed in one run, side by side: Rasa's own ceiling on this machine and our bot.

- two ceilings, each a trivial Rasa model (two intents, no actions) served by the same Rasa
  through its REST channel: "bare" (keyword classifier and rules only, conversations in
  memory: what the framework costs at the least) and "defaults" (the pipeline and policies
  Rasa picks when config.yml names none, as `rasa init` leaves it: DIET, TED and the rest).
  The issue's figure for "Rasa with a trivial model" (about 77 messages/s at 4 concurrent on
  this kind of machine) is what the defaults one gives (72 on a fast machine of this kind,
  where the bare one gives 480), so the share of the ceiling is reported against both;
- our bot (whole stack on loopback): sequential p50/p95 of a greeting, a policy answer
  (Rasa → action server → service → knowledge base), a screening turn and an urgent
  turn; messages/s at 1, 4, 16 and 50 concurrent conversations for both, and the ratio
  to the ceiling; turn 1 vs turn 50 of one conversation; 50 conversations × 5 turns
  (errors, p95); the web chat relay and the Telegram gateway (against the local fake
  Bot API) next to Rasa's own port.
`python -m bench.run speed` writes the figures to bench/results.json.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.stack import running_stack
from bot.rasa_model import CACHE_DIR, rasa_bin, rasa_env
from bot.stack import Process, free_port

LEVELS = (1, 4, 16, 50)
MESSAGES_PER_LEVEL = 150
SEQUENTIAL = 40
POLICY = "低保怎么申请"
GREETING = "你好"
SCREEN_START = "帮我算一算我家能不能吃低保"
SCREEN_ANSWER = "三口人"
URGENT = "我家老人突然晕倒了，叫不醒"

TRIVIAL = {
    "config.yml": "recipe: default.v1\nassistant_id: ceiling\nlanguage: en\npipeline:\n"
    "  - name: WhitespaceTokenizer\n  - name: KeywordIntentClassifier\n"
    "policies:\n  - name: RulePolicy\n",
    "domain.yml": 'version: "3.1"\nintents: [greet, goodbye]\nresponses:\n'
    '  utter_greet:\n    - text: "hello"\n  utter_goodbye:\n    - text: "bye"\n',
    "data/nlu.yml": 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n    - hi\n'
    "- intent: goodbye\n  examples: |\n    - bye\n    - goodbye\n",
    "data/rules.yml": 'version: "3.1"\nrules:\n- rule: greet\n  steps:\n  - intent: greet\n'
    "  - action: utter_greet\n- rule: bye\n  steps:\n  - intent: goodbye\n"
    "  - action: utter_goodbye\n",
    "credentials.yml": "rest:\n",
}


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# The same two intents with no pipeline or policies named: Rasa fills in its defaults.
DEFAULTS = {
    **TRIVIAL,
    "config.yml": "recipe: default.v1\nassistant_id: ceiling-defaults\nlanguage: en\npipeline:\npolicies:\n",
}
CEILINGS = {"ceiling": TRIVIAL, "ceiling_defaults": DEFAULTS}


def trivial_model(project: Path, files: dict[str, str] = TRIVIAL) -> Path:
    """A ceiling's model, trained once and cached by its files' hash."""
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    key = hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest()[:16]
    cached = CACHE_DIR / f"ceiling-{key}.tar.gz"
    if not cached.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(rasa_bin()), "train", "--out", str(project / "models"), "--fixed-model-name", key],
            cwd=project,
            env=rasa_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        shutil.move(project / "models" / f"{key}.tar.gz", cached)
    return cached


def sequential(url: str, messages: list[str], n: int = SEQUENTIAL, prefix: str = "seq") -> list[float]:
    """Milliseconds of the LAST message of `messages`, each run in a new conversation."""
    times = []
    with httpx.Client(timeout=60) as client:
        for i in range(n):
            sender = f"{prefix}-{i}-{time.monotonic_ns()}"
            for k, text in enumerate(messages):
                t = time.perf_counter()
                r = client.post(url, json={"sender": sender, "message": text})
                r.raise_for_status()
                if k == len(messages) - 1:
                    times.append((time.perf_counter() - t) * 1000)
    return times


async def _concurrent(url: str, message: str, conversations: int, turns: int) -> tuple[list[float], float, int]:
    """`conversations` at once, each sending `turns` messages one after another."""
    latencies: list[float] = []
    errors = 0

    async def conversation(client: httpx.AsyncClient, c: int) -> None:
        nonlocal errors
        for _turn in range(turns):
            t = time.perf_counter()
            try:
                r = await client.post(url, json={"sender": f"load-{c}-{time.monotonic_ns()}", "message": message})
                ok = r.status_code == 200 and bool(r.json())
            except (httpx.HTTPError, ValueError):
                ok = False
            latencies.append((time.perf_counter() - t) * 1000)
            errors += not ok

    started = time.perf_counter()
    limits = httpx.Limits(max_connections=conversations + 4, max_keepalive_connections=conversations + 4)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await asyncio.gather(*(conversation(client, c) for c in range(conversations)))
    return latencies, time.perf_counter() - started, errors


def throughput(url: str, message: str, tag: str) -> dict:
    out = {}
    asyncio.run(_concurrent(url, message, 2, 5))  # warm-up
    for level in LEVELS:
        turns = max(1, MESSAGES_PER_LEVEL // level)
        lat, seconds, errors = asyncio.run(_concurrent(url, message, level, turns))
        out[f"{tag}_c{level}_msgs_per_s"] = round(len(lat) / seconds, 1)
        out[f"{tag}_c{level}_p95_ms"] = round(_pct(lat, 95), 1)
        out[f"{tag}_c{level}_errors"] = errors
    return out


def ceiling(tag: str = "ceiling") -> dict:
    with tempfile.TemporaryDirectory(prefix="ceiling-") as d:
        project = Path(d)
        model = trivial_model(project, CEILINGS[tag])
        port = free_port()
        proc = Process(
            "ceiling",
            [
                str(rasa_bin()),
                "run",
                "--model",
                str(model),
                "--credentials",
                "credentials.yml",
                "--interface",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            f"http://127.0.0.1:{port}/",
            rasa_env(),
            project / "ceiling.log",
        )
        _start_in(proc, project)
        try:
            url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
            seq = sequential(url, ["hello"], prefix="ceil")
            return {f"{tag}_greeting_p50_ms": round(statistics.median(seq), 1), **throughput(url, "hello", tag)}
        finally:
            proc.stop()


def _start_in(proc: Process, cwd: Path, timeout: float = 120) -> None:
    proc.log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(proc.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        proc.popen = subprocess.Popen(
            proc.cmd, cwd=cwd, env=proc.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while not proc.healthy():
        if not proc.alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the ceiling model's Rasa did not start:\n{proc.tail()}")
        time.sleep(0.25)


def ours() -> dict:
    out: dict = {}
    with running_stack() as (stack, _):
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        sequential(url, [POLICY], n=5, prefix="warm")
        for name, messages in (
            ("greeting", [GREETING]),
            ("policy", [POLICY]),
            ("screen_turn", [SCREEN_START, SCREEN_ANSWER]),
            ("urgent_turn", [URGENT]),
        ):
            times = sequential(url, messages, prefix=name, n=SEQUENTIAL if name != "urgent_turn" else 15)
            out[f"bot_{name}_p50_ms"] = round(statistics.median(times), 1)
            out[f"bot_{name}_p95_ms"] = round(_pct(times, 95), 1)
        out |= throughput(url, POLICY, "bot")
        out |= long_conversation(url)
        lat, _, errors = asyncio.run(_concurrent(url, POLICY, 50, 5))
        out["bot_50x5_errors"] = errors
        out["bot_50x5_p95_ms"] = round(_pct(lat, 95), 1)
        out |= web_relay(stack)
    out |= telegram_path()
    return out


def long_conversation(url: str, turns: int = 50, conversations: int = 8) -> dict:
    """Turn 50 against turns 1-5, measured at the same moments.

    `conversations` long conversations go forward in lockstep, a turn each a round; beside each,
    in the same round, a short one (five turns, then the next short one starts). So turns 46-50
    of the long ones are compared with turns 1-5 of short ones sent in the same five rounds: a
    drift of the machine over the run (this one's timings drift by 20-30 %) falls on both. The
    first five turns of the long ones, measured at the start, are reported too."""
    long_times: list[list[float]] = [[] for _ in range(turns)]
    short_times: list[list[float]] = [[] for _ in range(turns)]
    run = time.monotonic_ns()
    with httpx.Client(timeout=60) as client:

        def timed(sender: str) -> float:
            t = time.perf_counter()
            client.post(url, json={"sender": sender, "message": POLICY}).raise_for_status()
            return (time.perf_counter() - t) * 1000

        for turn in range(turns):
            for c in range(conversations):
                long_times[turn].append(timed(f"long-{run}-{c}"))
                short_times[turn].append(timed(f"short-{run}-{c}-{turn // 5}"))
    first = statistics.median(t for turn in long_times[:5] for t in turn)
    last = statistics.median(t for turn in long_times[-5:] for t in turn)
    fresh_late = statistics.median(t for turn in short_times[-5:] for t in turn)
    return {
        "bot_turn1_5_p50_ms": round(first, 1),
        "bot_turn46_50_p50_ms": round(last, 1),
        "bot_turn50_over_turn1": round(last / first, 2),
        "bot_turns1_5_same_rounds_p50_ms": round(fresh_late, 1),
        "bot_turn50_over_turn1_same_rounds": round(last / fresh_late, 2),
    }


def web_relay(stack, n: int = 100) -> dict:
    """The web chat relay (service → Rasa) against Rasa's port, same message, same run.

    Pairs of one direct call and one relayed call, in alternating order (direct first, then
    relay first), so neither always runs right after the other's after-answer work, and a
    drift of the machine falls on both; 100 pairs, as a 40-sample median on this machine
    moved by ±1.5 ms between runs."""
    rasa_times, relay_times = [], []
    with httpx.Client(timeout=60) as client:

        def direct(i: int) -> None:
            t = time.perf_counter()
            client.post(
                f"{stack.rasa_url}/webhooks/rest/webhook",
                json={"sender": f"direct-{i}-{time.monotonic_ns()}", "message": POLICY},
            ).raise_for_status()
            rasa_times.append((time.perf_counter() - t) * 1000)

        def relayed(_i: int) -> None:
            # A new conversation, as the page opens it (the service issues it and its token).
            session = client.post(f"{stack.service_url}/v1/chat/session").raise_for_status().json()
            t = time.perf_counter()
            client.post(
                f"{stack.service_url}/v1/chat",
                json={"sender": session["sender"], "message": POLICY},
                headers={"X-Chat-Token": session["token"]},
            ).raise_for_status()
            relay_times.append((time.perf_counter() - t) * 1000)

        for i in range(n):
            for call in (direct, relayed) if i % 2 == 0 else (relayed, direct):
                call(i)
    direct_p50, relay_p50 = statistics.median(rasa_times), statistics.median(relay_times)
    return {
        "rasa_port_policy_p50_ms": round(direct_p50, 1),
        "web_relay_policy_p50_ms": round(relay_p50, 1),
        "web_relay_adds_ms": round(relay_p50 - direct_p50, 1),
        # Pair by pair (each relayed call minus the direct call of the same pair): steadier
        # than the difference of two medians.
        "web_relay_adds_paired_ms": round(
            statistics.median(r - d for r, d in zip(relay_times, rasa_times, strict=True)), 1
        ),
    }


def telegram_path(n: int = 15) -> dict:
    """From the fake Bot API's update to the gateway's sendMessage with the answer."""
    from tests.support.fake_telegram import FakeTelegram

    token = "123456:bench-token"
    times = []
    with FakeTelegram(token) as api, running_stack(telegram_token=token, telegram_api_url=api.url):
        for i in range(n + 2):
            chat_id = 5000 + i
            t = time.perf_counter()
            after = len(api.messages_to(chat_id))
            api.user_says(chat_id, POLICY)
            api.wait_for(chat_id, "依据", after=after, timeout=60)
            if i >= 2:  # the first two warm the gateway up
                times.append((time.perf_counter() - t) * 1000)
    return {
        "telegram_policy_p50_ms": round(statistics.median(times), 1),
        "telegram_policy_p95_ms": round(_pct(times, 95), 1),
    }


def run() -> dict:
    figures = {k: v for tag in CEILINGS for k, v in ceiling(tag).items()} | ours()
    for level in LEVELS:
        for tag in CEILINGS:  # bot_c4_share_of_ceiling, bot_c4_share_of_ceiling_defaults, ...
            ceil = figures.get(f"{tag}_c{level}_msgs_per_s")
            if ceil:
                share = round(figures[f"bot_c{level}_msgs_per_s"] / ceil, 2)
                figures[f"bot_c{level}_share_of_ceiling{tag.removeprefix('ceiling')}"] = share
    return figures


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:36s} {v}")
