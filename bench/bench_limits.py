"""Over-long messages through Rasa's REST channel: how fast they are answered, and what
they cost another conversation.

The whole stack on loopback (one Rasa process). A 100 000-character message is cut to
MAX_MESSAGE_CHARS before the classifier (rasa_channels/rest.py) and answered after a kind
note. Measured: its round trip, alone; and another conversation asking "低保是什么" one
message after another (a bounded number each phase):
- alone (before and after the other phases: the baseline is both together);
- while a second client sends one 100 000-character message a second;
- the control: the same client sending an ordinary question a second instead;
- the worst case: 100 000-character messages back to back (one always in flight; the
  rate is then set by how fast they are answered, so it is any busy second client), with
  its control: ordinary questions back to back from the second client. On two cores any
  second client that never pauses slows the first; what the length adds is the difference.
"""

from __future__ import annotations

import json
import statistics
import threading
import time

import httpx

from bench.stack import running_stack
from bot.text import too_long_note

OTHER_MESSAGES = 60
LONG_MESSAGES = 10
QUESTION = "低保是什么"
STORY = "我家里困难，老公生病住院了，孩子还在读书，想问一下能不能申请低保，需要什么材料。"
LONG = (STORY * (100_000 // len(STORY) + 1))[:100_000]


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _post(client: httpx.Client, url: str, sender: str, message: str) -> tuple[float, list[dict]]:
    body = json.dumps({"sender": sender, "message": message}, ensure_ascii=False).encode()
    started = time.perf_counter()
    r = client.post(url, content=body, headers={"Content-Type": "application/json"})
    elapsed = (time.perf_counter() - started) * 1000
    r.raise_for_status()
    return elapsed, r.json()


def _other_conversation(url: str, label: str) -> list[float]:
    latencies = []
    with httpx.Client(timeout=60) as client:
        for i in range(OTHER_MESSAGES):
            ms, answers = _post(client, url, f"bench-other-{label}-{i % 4}", QUESTION)
            if not any("依据" in (a.get("text") or "") for a in answers):
                raise RuntimeError(f"no cited answer to {QUESTION!r}: {answers}")
            latencies.append(ms)
    return latencies


class Background:
    """A second client: `message` once every `every` seconds (0: back to back), in a thread."""

    def __init__(self, url: str, message: str, every: float):
        self.url, self.message, self.every = url, message, every
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=60) as client:
            i = 0
            while not self._stop.is_set():
                started = time.perf_counter()
                self.latencies.append(_post(client, self.url, f"bench-bg-{i % 8}", self.message)[0])
                i += 1
                self._stop.wait(max(0.0, self.every - (time.perf_counter() - started)))

    def __enter__(self) -> Background:
        self._thread.start()
        time.sleep(0.3)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(60)


def _figures(name: str, latencies: list[float], baseline_p50: float) -> dict:
    p50 = statistics.median(latencies)
    return {
        f"other_{name}_p50_ms": round(p50, 1),
        f"other_{name}_p95_ms": round(_pct(latencies, 95), 1),
        f"other_{name}_p50_rise_pct": round((p50 / baseline_p50 - 1) * 100, 1),
    }


def run() -> dict:
    with running_stack() as (stack, _):
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        with httpx.Client(timeout=60) as client:  # warm-up: both kinds of message
            for i in range(3):
                _post(client, url, f"bench-warm-{i}", QUESTION)
                _post(client, url, f"bench-warm-long-{i}", LONG)
            long_ms = []
            for i in range(LONG_MESSAGES):
                ms, answers = _post(client, url, f"bench-long-{i}", LONG)
                if not answers or answers[0].get("text") != too_long_note() or len(answers) < 2:
                    raise RuntimeError(f"the long message was not answered kindly: {answers[:2]}")
                long_ms.append(ms)

        alone = _other_conversation(url, "alone")
        with Background(url, LONG, every=1.0) as long_each_second:
            with_long = _other_conversation(url, "long")
        with Background(url, QUESTION, every=1.0):
            with_short = _other_conversation(url, "short")
        with Background(url, LONG, every=0) as flood:
            with_flood = _other_conversation(url, "flood")
        with Background(url, QUESTION, every=0):
            with_busy = _other_conversation(url, "busy")
        alone += _other_conversation(url, "alone-again")

    baseline = statistics.median(alone)
    return {
        "long_100k_p50_ms": round(statistics.median(long_ms), 1),
        "long_100k_max_ms": round(max(long_ms), 1),
        "long_100k_at_1_per_s_max_ms": round(max(long_each_second.latencies), 1),
        **_figures("alone", alone, baseline),
        **_figures("with_long_1_per_s", with_long, baseline),
        **_figures("with_short_1_per_s", with_short, baseline),
        **_figures("with_long_back_to_back", with_flood, baseline),
        **_figures("with_short_back_to_back", with_busy, baseline),
        "long_back_to_back_per_s": round(len(flood.latencies) / (sum(flood.latencies) / 1000), 2),
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:44s} {value}")
