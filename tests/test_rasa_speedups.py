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


SESSIONS_AND_SLOTS = r"""
import asyncio, copy, json, sys
from aiohttp import web
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

slots = Domain.load("domain").slots
plain = [copy.copy(s) for s in slots]          # Python's generic copy, before the speedups
import rasa_channels  # installs the speedups
from rasa_channels.action_calls import close_endpoint_sessions
direct = [copy.copy(s) for s in slots]
slot_copies = all(
    type(a) is type(b) is type(s) and vars(a) == vars(b) and a is not s
    and all(vars(a)[k] is vars(s)[k] for k in vars(s))  # shallow, as copy.copy
    for a, b, s in zip(plain, direct, slots)
) and len(slots) > 10

async def main():
    connections = []
    async def answer(request):
        connections.append(request.transport)
        return web.json_response({"events": [], "responses": []})
    app = web.Application()
    app.router.add_post("/webhook", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"Authorization": "Bearer x"})
    answers = [await endpoint.request(json={"n": i}, method="post") for i in range(5)]
    kept = endpoint.session()
    await close_endpoint_sessions()
    await runner.cleanup()
    return {
        "answers": answers,
        "calls": len(connections),
        "connections": len(set(map(id, connections))),
        "closed": kept.session.closed,
    }

result = asyncio.run(main())
with open(sys.argv[1], "w") as fh:
    json.dump({"slot_copies": slot_copies, **result}, fh)
"""


def test_endpoint_calls_share_a_connection_and_slots_copy_as_python_does(tmp_path):
    out = tmp_path / "out.json"
    run_rasa_script(SESSIONS_AND_SLOTS, str(out), data_dir=tmp_path)
    result = json.loads(out.read_text())
    assert result["slot_copies"] is True
    assert result["answers"] == [{"events": [], "responses": []}] * 5
    assert (result["calls"], result["connections"]) == (5, 1)
    assert result["closed"] is True


TRACKERS = r'''
import asyncio, json, sys, time
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.events import (
    ActionExecuted, ActionExecutionRejected, ActionReverted, ActiveLoop, AllSlotsReset, BotUttered,
    ConversationPaused, ConversationResumed, FollowupAction, LoopInterrupted, Restarted, SessionStarted,
    SlotSet, UserUttered, UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

RASA = {  # Rasa's own methods, taken before the speedups replace them
    (DialogueStateTracker, "applied_events"): DialogueStateTracker.applied_events,
    (DialogueStateTracker, "copy"): DialogueStateTracker.copy,
    (RulePolicy, "_find_action_from_rules"): RulePolicy._find_action_from_rules,
    (RulePolicy, "_prediction_states"): RulePolicy._prediction_states,
    (RulePolicy, "_create_feature_key"): RulePolicy._create_feature_key,
}
RASA_CALL_FORMAT = RemoteAction._action_call_format
import ujson
import rasa_channels  # installs the speedups
from rasa_channels.action_calls import JSON_MEMO, json_of_request
from rasa_channels.speedups import APPLIED_MEMO, STATES_MEMO
from rasa_channels.stored_events import mark_stored
from rasa_channels.tracker_store import MaskingSQLTrackerStore
OURS = {key: getattr(*key) for key in RASA}

def use(methods):
    for (cls, name), f in methods.items():
        setattr(cls, name, f)

def without_earlier_rankings(events):
    """Rasa's event dicts, each user message but the latest without its intent ranking: what
    the action server is to get, worked out from the dicts."""
    latest = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    return [
        {**e, "parse_data": {k: v for k, v in e["parse_data"].items() if k != "intent_ranking"}}
        if i != latest and e.get("event") == "user" and isinstance(e.get("parse_data"), dict) else e
        for i, e in enumerate(events)
    ]

def same_or_empty(value, events):
    """The event itself when it is one of the tracker's (a replay shares it), else what it holds:
    the empty placeholder a tracker starts with (a copy shares the original's, made earlier)."""
    if any(value is e for e in events):
        return ("event", id(value))
    return ("made", {k: v for k, v in value.as_dict().items() if k != "timestamp"})

def state(t):
    return {
        "events": [id(e) for e in t.events],
        "slots": {n: (type(s).__name__, vars(s)) for n, s in t.slots.items()},
        "rest": {k: (same_or_empty(v, t.events) if k in ("latest_message", "latest_bot_utterance") else v)
                 for k, v in vars(t).items() if k not in ("events", "slots") and not k.startswith("_jz")},
        "json": json.dumps(t.current_state(EventVerbosity.ALL), sort_keys=True, default=str),
    }

def prediction(p):
    """What a prediction says (an event it makes carries the time it was made: left out)."""
    events = [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in p.events]
    return (p.max_confidence_index, p.policy_name, p.max_confidence, p.hide_rule_turn, events)

def made_up(slots):
    """Every kind of event that changes a tracker's state, twice over, in a plausible order."""
    ranking = [{"name": "ask_policy", "confidence": 0.8}, {"name": "greet", "confidence": 0.2}]
    out = []
    for round in range(2):
        out += [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                UserUttered("低保怎么申请", {"name": "ask_policy", "confidence": 0.8}, [{"entity": "place", "value": "渠县"}],
                            {"intent": {"name": "ask_policy"}, "intent_ranking": ranking, "text": "低保怎么申请"}),
                ActionExecuted("action_answer_policy"), BotUttered("按规定……", {"buttons": [{"title": "依据", "payload": "/x"}]}),
                SlotSet(slots[0], "渠县"), ActionExecuted("action_listen"),
                UserUttered("帮我算算", {"name": "screen", "confidence": 0.9}),
                ActionExecuted("screen_form"), ActiveLoop("screen_form"), SlotSet("requested_slot", slots[1]),
                ActionExecuted("action_listen"), UserUttered("不知道", {"name": "deny", "confidence": 0.7}),
                ActionExecutionRejected("screen_form"), LoopInterrupted(True), ActionExecuted("utter_not_heard"),
                ActionExecuted("screen_form"), SlotSet(slots[1], 3), ActionExecuted("action_listen"),
                UserUttered("算了", {"name": "stop", "confidence": 0.9}), UserUtteranceReverted(),
                UserUttered("算了", {"name": "stop", "confidence": 0.9}), ActionExecuted("utter_x"), ActionReverted(),
                FollowupAction("action_listen"), ActiveLoop(None), SlotSet("requested_slot", None),
                ConversationPaused(), ConversationResumed(), AllSlotsReset(), SlotSet(slots[2], True)]
        if round == 0:
            out += [Restarted(), ActionExecuted("action_listen")]
    t0 = time.time() - 10_000
    for i, e in enumerate(out):
        e.timestamp = t0 + i
    return out

async def main():
    agent = Agent.load(sys.argv[1])
    processor, domain = agent.processor, agent.domain
    for text in ["你好", "低保怎么申请", "我是渠县的", "帮我算一算我家能不能吃低保", "三口人", "算了",
                 "我要找人工", "谢谢", "屋头莫得收入", "asdfgh", "特困供养怎么申请"] * 3:
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), "speedups-talk"))
    talk = list((await agent.tracker_store.retrieve("speedups-talk")).events)
    names = [s.name for s in domain.slots if s.name != "requested_slot"]
    counts = {"prefixes": 0, "applied": 0, "copies": 0, "predictions": 0, "same_predictions": 0}
    # The same conversation each time: what was kept of one history must not leak into the next,
    # the third of which starts with the very events of the first and then goes its own way.
    for events in (talk, made_up(names), talk[:40] + made_up(names)):
        tracker = DialogueStateTracker("speedups", domain.slots)
        for k, event in enumerate(events):
            # Turns of four events: those before this turn are stored, as the tracker store
            # marks what it reads back; this turn's own are not yet.
            for stored in events[: k - k % 4]:
                mark_stored(stored)
            tracker.update(event)  # the same tracker, growing: what it remembered must follow
            counts["prefixes"] += 1
            ours = [id(e) for e in tracker.applied_events()]
            counts["applied"] += ours == [id(e) for e in RASA[(DialogueStateTracker, "applied_events")](tracker)] == [id(e) for e in tracker.applied_events()]
            copied, replayed = tracker.copy(), RASA[(DialogueStateTracker, "copy")](tracker)
            counts["copies"] += state(copied) == state(replayed) and copied.active_loop is not tracker.active_loop or copied.active_loop is None
            if k % 3 == 0 or k == len(events) - 1:
                fresh = DialogueStateTracker.from_events("speedups", list(tracker.events), domain.slots)
                p = processor._predict_next_with_tracker(fresh)
                use(RASA)
                try:
                    q = processor._predict_next_with_tracker(DialogueStateTracker.from_events("speedups", list(tracker.events), domain.slots))
                finally:
                    use(OURS)
                same = prediction(p) == prediction(q)
                counts["predictions"] += 1
                counts["same_predictions"] += same
    # A conversation whose kept walk does not fit what comes next: another history at once (longer
    # than the kept one, so only the check of the events themselves tells them apart), and the
    # same stored events followed by a loop they ran before it was named (which changes the walk
    # of those very events).
    def loop_run():
        return [ActionExecuted("action_listen"), UserUttered("帮我算算", {"name": "screen", "confidence": 0.9}),
                ActionExecuted("screen_form"), SlotSet("requested_slot", names[0]), ActionExecuted("action_listen"),
                UserUttered("三口人", {"name": "inform", "confidence": 0.9}), ActionExecuted("screen_form"),
                ActionExecuted("action_listen")]
    looped = loop_run()
    switches = [(made_up(names), talk), (looped, looped + [ActiveLoop("screen_form"), ActionExecuted("screen_form")])]
    switched = []
    for first, then in switches:
        for event in first + then:
            mark_stored(event)
        before = DialogueStateTracker.from_events("speedups-switch", first, domain.slots)
        before.applied_events()
        processor._predict_next_with_tracker(before)
        after = DialogueStateTracker.from_events("speedups-switch", then, domain.slots)
        ours = [id(e) for e in after.applied_events()]
        p = processor._predict_next_with_tracker(after)
        use(RASA)
        try:
            theirs = [id(e) for e in after.applied_events()]
            q = processor._predict_next_with_tracker(DialogueStateTracker.from_events("speedups-switch", then, domain.slots))
        finally:
            use(OURS)
        switched.append([ours == theirs, prediction(p) == prediction(q)])
    # What the action server gets: Rasa's call, the earlier rankings left out, from a tracker
    # read back whole, then from the events kept (each written once, then reused).
    store = MaskingSQLTrackerStore(domain, dialect="sqlite", db=sys.argv[3])
    await store.save(DialogueStateTracker.from_events("speedups-store", talk, domain.slots))
    action = RemoteAction("action_answer_policy", None)
    dumps = lambda v: ujson.dumps(v, ensure_ascii=False, escape_forward_slashes=False)
    calls, reads = [], []
    for turn in range(3):
        read = await store.retrieve("speedups-store")
        # The tracker the store made (from the one its last read made) is the replay of its events.
        replayed = DialogueStateTracker.from_events("speedups-store", list(read.events), domain.slots)
        reads.append(state(read) == state(replayed))
        theirs = RASA_CALL_FORMAT(action, read, domain)
        theirs["tracker"]["events"] = without_earlier_rankings(theirs["tracker"]["events"])
        calls.append(json.loads(json_of_request(action._action_call_format(read, domain), dumps)) == json.loads(json.dumps(theirs)))
        if turn < 2:  # another turn, stored
            for event in (ActionExecuted("action_listen"), UserUttered("还有呢", {"name": "ask_policy", "confidence": 0.9}, [],
                                                                {"intent": {"name": "ask_policy", "confidence": 0.9}, "text": "还有呢",
                                                                 "intent_ranking": [{"name": "ask_policy", "confidence": 0.9}]}),
                          SlotSet(names[turn], "渠县"), ActionExecuted("action_answer_policy"), BotUttered("好的")):
                read.update(event)
            await store.save(read)
    full = theirs["tracker"]["events"]
    users = [i for i, e in enumerate(RASA_CALL_FORMAT(action, read, domain)["tracker"]["events"]) if e["event"] == "user"]
    payload = {
        "calls_same": calls,
        "reads_same": reads,
        "switched": switched,
        "resumed": {"applied": APPLIED_MEMO.resumed, "states": STATES_MEMO.resumed, "json": JSON_MEMO.resumed},
        "ranked": [i for i, e in enumerate(full) if "intent_ranking" in (e.get("parse_data") or {})] == users[-1:],
        "rest_kept": len(full) == len(read.events) > 0,
        "users": len(users),
    }
    with open(sys.argv[2], "w") as fh:
        json.dump({**counts, "talk_events": len(talk), **payload}, fh)

asyncio.run(main())
'''


def test_trackers_copies_applied_events_and_predictions_are_rasas_own(tmp_path):
    """On a conversation of 33 messages the trained model held (its custom actions unreachable here,
    which Rasa survives), on a made-up history of every kind of state-changing event, and on the
    first 40 events of the one followed by the other, at every step (the events before the
    current turn marked stored, so what was worked out from them is kept and built on): the remembered applied events, the copy made from the tracker's state and the
    rule predictions are what Rasa's own methods give; the action server gets every event,
    only the earlier messages' intent rankings left out."""
    out = tmp_path / "out.json"
    run_rasa_script(TRACKERS, str(ensure_model()), str(out), str(tmp_path / "t.db"), data_dir=tmp_path, timeout=900)
    result = json.loads(out.read_text())
    assert result["talk_events"] > 80
    assert result["applied"] == result["copies"] == result["prefixes"] > 140
    assert result["same_predictions"] == result["predictions"] > 45
    assert result["calls_same"] == [True, True, True]
    assert result["reads_same"] == [True, True, True]
    assert result["switched"] == [[True, True], [True, True]]
    # What was kept of the stored events was used, in each of the three walks.
    assert min(result["resumed"].values()) > 0, result["resumed"]
    assert result["ranked"] is True and result["rest_kept"] is True and result["users"] > 10
