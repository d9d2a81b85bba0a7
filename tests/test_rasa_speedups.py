"""rasa_channels/speedups.py `run_graphs_in_order`: our model's graphs give, node for node,
what dask's scheduler gives them, for NLU and for action prediction. In Rasa's environment,
on the trained model."""

from __future__ import annotations

import json

from bot.rasa_model import ensure_model
from tests.support.rasa_script import run_rasa_script

SCRIPT = r'''
import asyncio, json, sys
import dask
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.engine.runner.dask import DaskGraphRunner
import rasa_channels  # installs the speedups

def by_dask(runner, inputs=None, targets=None):
    targets = targets or runner._graph_schema.target_names
    graph = runner._build_dask_graph(runner._graph_schema.minimal_graph_schema(targets))
    runner._add_inputs_to_graph(inputs, graph)
    return dict(dask.get(graph, targets))

def plain(value):
    """A result as comparable data (Rasa's objects compared by what they hold; an event's
    timestamp is the time the policy made it, so it is left out)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if k != "timestamp"}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    for attr in ("as_dict", "to_dict"):
        if hasattr(value, attr):
            try:
                return plain(getattr(value, attr)())
            except TypeError:
                pass
    if hasattr(value, "__dict__"):
        return {k: plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)

async def main():
    agent = Agent.load(sys.argv[1])
    processor = agent.processor
    runner = processor.graph_runner
    compared = []
    for text in ["你好", "低保怎么申请", "屋头莫得收入，咋个才吃得到底保嘛", "娃儿发高烧在抽筋", "我是渠县的", "asdfgh"]:
        message = UserMessage(text, sender_id=f"speedups-{len(compared)}")
        tracker = await processor.fetch_tracker_and_update_session(message.sender_id)
        nlu = {"__message__": [message], "__tracker__": tracker}
        targets = [processor.model_metadata.nlu_target]
        ours, theirs = runner.run(inputs=nlu, targets=targets), by_dask(runner, nlu, targets)
        compared.append(plain(ours) == plain(theirs) and bool(ours))
        await processor._handle_message_with_tracker(message, tracker)
        policy = {"__tracker__": tracker}
        targets = [processor.model_metadata.core_target]
        ours, theirs = runner.run(inputs=policy, targets=targets), by_dask(runner, policy, targets)
        compared.append(plain(ours) == plain(theirs) and bool(ours))
    with open(sys.argv[2], "w") as fh:
        json.dump(compared, fh)

asyncio.run(main())
'''


def test_our_graph_runner_gives_what_dask_gives(tmp_path):
    out = tmp_path / "out.json"
    run_rasa_script(SCRIPT, str(ensure_model()), str(out), data_dir=tmp_path, timeout=600)
    assert json.loads(out.read_text()) == [True] * 12
