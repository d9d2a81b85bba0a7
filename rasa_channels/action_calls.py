"""How Rasa calls the action server, made lighter; installed when Rasa imports rasa_channels.

Rasa calls the action server (and any other endpoint) through `EndpointConfig.request`, which
opens a new aiohttp session, and so a new connection, for every call, and closes it after.
Here each endpoint keeps one session (one pool of kept-alive connections) on the loop that
serves; the channel closes them when the server stops (rasa_channels/rest.py). The action
server keeps an idle connection for 120 s, aiohttp for 15: the client always lets go first.
The request body (the whole tracker, for an action) is written by ujson, which Rasa itself
depends on, and by the standard json module for anything ujson refuses.

Rasa sends the action server the whole tracker and the whole domain on every call. The
domain's dict is made once per domain (the served model's domain does not change), and of the
resident's earlier messages the intent ranking (ten intents with their confidences each) is
left out; the latest message, and every other field of every event, go as before. Our actions
and rasa-sdk read the ranking of the latest message only (tracker.latest_message). An event
the tracker store read back (and shares with later turns' trackers) is written as JSON once
and its text kept on it; the request's JSON is put together from those texts.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_channels.speedups import is_a
from rasa_channels.stored_events import STORED, PrefixMemo, is_stored

JSON_MEMO = PrefixMemo()  # a conversation's leading stored events, as the action server gets them


class _KeptSession:
    """`async with endpoint.session() as session` on a session that stays open."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *exc: Any) -> None:
        return None


_kept_sessions: List[Any] = []


def reuse_endpoint_sessions() -> None:
    import asyncio
    import json

    import aiohttp
    import ujson
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    def dumps(value: Any) -> str:
        try:
            return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)
        except (TypeError, OverflowError, ValueError):
            return json.dumps(value)

    def request_json(value: Any) -> str:
        return json_of_request(value, dumps)

    def session(self: EndpointConfig) -> Any:
        loop = asyncio.get_running_loop()
        kept = self.__dict__.get("_jz_session")
        if kept is None or kept[0] is not loop or kept[1].closed:
            auth = (
                aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
            )
            made = aiohttp.ClientSession(  # as EndpointConfig.session, with the faster writer
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                json_serialize=request_json,
            )
            kept = self.__dict__["_jz_session"] = (loop, made)
            _kept_sessions.append(made)
        return _KeptSession(kept[1])

    EndpointConfig.session = session  # type: ignore[method-assign,assignment]


async def close_endpoint_sessions() -> None:
    """Closes the sessions the endpoints kept (when the server stops)."""
    while _kept_sessions:
        await _kept_sessions.pop().close()


def lighter_action_calls() -> None:
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

    def _action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> Dict[Text, Any]:
        """RemoteAction._action_call_format, lighter (see the module docstring)."""
        state = tracker.current_state(EventVerbosity.NONE)
        state["events"] = EventsToSend(tracker.events, tracker.sender_id)
        result = {
            "next_action": self._name,
            "sender_id": tracker.sender_id,
            "tracker": state,
            "version": rasa.__version__,
        }
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            kept = domain.__dict__.get("_jz_as_dict")
            if kept is None:
                kept = domain.__dict__["_jz_as_dict"] = domain.as_dict()
            result["domain"] = kept
        return result

    RemoteAction._action_call_format = _action_call_format  # type: ignore[method-assign]


class EventsToSend(list):  # type: ignore[type-arg]
    """A tracker's events as the action server gets them: each as its `as_dict()`, a user
    message but the latest without its intent ranking. Written straight into the request's
    JSON (`json_of_request`); an event the tracker store read back is written once and the
    text kept on it, since the trackers of later turns share it (rasa_channels/tracker_store.py),
    and the JSON of the conversation's leading stored events is kept joined for its next call
    (JSON_MEMO, rasa_channels/stored_events.py)."""

    def __init__(self, events: Any = (), conversation: Optional[Text] = None) -> None:
        super().__init__(events)
        self.conversation = conversation

    def json(self, dumps: Any) -> str:
        latest = _latest_user_index(self)
        start, parts = 0, []
        resumed = JSON_MEMO.resume(self.conversation, self) if self.conversation is not None else None
        if resumed is not None and (latest < 0 or resumed[0] <= latest):
            start, parts = resumed[0], [resumed[1]]
        looking = self.conversation is not None  # for the end of the leading stored events, all unranked
        for i in range(start, len(self)):
            event = self[i]
            stored = is_stored(event)
            if looking and (i == latest or not stored):
                looking = False
                if i > start:
                    JSON_MEMO.keep(self.conversation, self[:i], ",".join(parts))
            ranked = i == latest
            if not stored:
                parts.append(dumps(_event_dict(event, ranked)))
                continue
            written = event.__dict__.setdefault(STORED + "_json", {})
            if ranked not in written:
                written[ranked] = dumps(_event_dict(event, ranked))
            parts.append(written[ranked])
        return "[" + ",".join(parts) + "]"


def _latest_user_index(events: List[Any]) -> int:
    from rasa.shared.core.events import UserUttered

    return next((i for i in range(len(events) - 1, -1, -1) if is_a(events[i], UserUttered)), -1)


def _event_dict(event: Any, ranked: bool) -> Dict[Text, Any]:
    data = event.as_dict()
    parse_data = data.get("parse_data")
    if not ranked and data.get("event") == "user" and isinstance(parse_data, dict) and "intent_ranking" in parse_data:
        data = {**data, "parse_data": {k: v for k, v in parse_data.items() if k != "intent_ranking"}}
    return data


def json_of_request(value: Any, dumps: Any) -> str:
    """JSON of a request body; an action call's events (EventsToSend) spliced in as written."""
    tracker = value.get("tracker") if isinstance(value, dict) else None
    events = tracker.get("events") if isinstance(tracker, dict) else None
    if not isinstance(events, EventsToSend):
        return dumps(value)
    text = dumps({**value, "tracker": {**tracker, "events": _EVENTS_HERE}})
    return text.replace(dumps(_EVENTS_HERE), events.json(dumps), 1)


_EVENTS_HERE = "jz-events-" + "5f0c0a8e1d2b4b7e9a6c3d1e8f7a2b90"  # no tracker value holds it
