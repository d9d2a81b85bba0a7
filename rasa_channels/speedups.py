"""Rasa 3.6 hot spots fixed from outside, installed when Rasa imports rasa_channels (how Rasa
calls the action server: rasa_channels/action_calls.py).

Rasa validates every custom action's answer with `jsonschema.validate`, which first checks
the (constant) schema itself against the JSON Schema metaschema: profiling our bot, that
check was about 40% of the Rasa process's time on a policy answer. Here the answer is
validated by one validator built once from the same schema, with the same error message.

Rasa rebuilds a conversation's tracker from its stored events on every turn, and finds each
event's class with `Event.resolve_by_type`, which walks every Event subclass (recursively,
asking `inspect.isabstract` of each) for every single event: at turn 50 (about 300 events)
that walk was about 60% of reading the conversation back, the stage that grew most with the
conversation. Here a name, once resolved, is looked up in a dict; the dict is emptied
whenever a new Event subclass is defined, so the answer stays the one Rasa's walk gives.

RulePolicy turns the whole conversation into states (one per action, each over every slot)
twice per prediction, though a rule only ever looks at as many of the latest states as it is
long: `_is_rule_applicable` accepts any state further back than the rule's length. So the
rules are matched against the latest N states only, N the longest learned rule (happy and
unhappy-path lookups); the states are computed by the same replay as Rasa's
(`generate_all_prior_trackers`, `get_active_state`, `_clean_state`). When no rule applies
RulePolicy names the prediction by a key made of ALL states: for the lookup by intent (the
key decides `hide_rule_turn`) that case is computed again Rasa's way; for the lookup by text
the key is thrown away by RulePolicy._predict when no rule applied, so it is made of the
latest states. Every prediction (action, confidences, events, flags) is the one Rasa gives.

Each message runs the model's graph once for NLU and once per predicted action, through
dask's local scheduler: its bookkeeping (task ordering, a thread pool's queues, callbacks)
was about a sixth of a greeting's time in the Rasa process, for graphs of a dozen nodes
that run one after another anyway. Here each needed node is called once, after what it
needs, with the same inputs and the same result dict as `dask.get` gives.

A turn asks a tracker for its applied events (the history without what was reverted) many
times over, for each rule lookup and each state built: `applied_events` walks every event of
the conversation each time. A tracker now remembers its last answer for as long as its events
stay the same (the same deque, as long, ending with the same event) and hands out copies; the
latest states a rule lookup needs are remembered the same way. Both grew with the conversation.
Walking the events itself is Rasa's `applied_events` step for step, with each `isinstance`
answered once per class (`is_a`): through ABCMeta (Rasa's events are ABCs) those checks were
most of the walk. Both the walk and the replay of the states go on from where they reached in
the conversation's stored events the last time (rasa_channels/stored_events.py): at turn 100
the two walks were a fifth of the Rasa process's time, and grew with every turn. The replay of the latest states appends each event and applies it, as
`tracker.update` does for a tracker with no model id to stamp on events (one made by init_copy).

Before running any action (action_listen, an utterance, a custom action), Rasa copies the
tracker with `tracker.copy()`, which makes an empty tracker and replays every event of the
conversation into it. Rasa keeps the rule that a tracker's state "MUST be re-creatable by
processing all the events" (DialogueStateTracker.__init__), so the copy is now made from the
state itself: the same events, a copy of each slot as it stands, the same latest message,
bot utterance and action, loop and pause (before any message, the empty placeholders are the
original's, so their creation time is the original's). What Rasa's replay would not give the
same way (a subclass, slots made on the fly, an event not before the end of time) is replayed
as before.

Every tracker Rasa makes (for a new conversation, for each prior state a rule lookup replays)
copies every slot of the domain with `copy.copy`, whose generic path (`__reduce_ex__`,
`copyreg.__newobj__`) was most of making a tracker. A Slot's copy is now made directly: a new
object of the same class holding the same attributes, which is what `copy.copy` makes of it.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Dict, Iterable, List, Optional, Set, Text, Tuple, Type

from rasa_channels.stored_events import PrefixMemo, is_stored

APPLIED_MEMO = PrefixMemo()  # a conversation's walk for its applied events (remember_applied_events)
STATES_MEMO = PrefixMemo()  # its replay for the states a rule looks at (match_rules_on_recent_states)


def validate_action_results_with_one_validator() -> None:
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator = validator_for(schema)(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, make sure your response from the "
                f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = _validate_action_result


def resolve_event_types_once() -> None:
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    resolved: Dict[Text, Type[Event]] = {}

    def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        cls = resolved.get(type_name)
        if cls is None:
            cls = original(type_name, default)
            # Only a class found by the walk is kept: `default`, None (old "topic" events) and
            # unknown names (ValueError) go through Rasa's own code every time.
            if cls is not None and cls is not default and cls.type_name == type_name:
                resolved[type_name] = cls
        return cls

    previous_hook = Event.__dict__.get("__init_subclass__")

    def __init_subclass__(cls: Type[Event], **kwargs: Any) -> None:
        resolved.clear()  # a new event class: resolve names by Rasa's walk again
        if previous_hook is not None:
            previous_hook.__func__(cls, **kwargs)
        else:
            super(Event, cls).__init_subclass__(**kwargs)

    Event.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


class _WholeHistoryNeeded(Exception):
    """No rule applied: RulePolicy's feature key needs every state."""


def copy_slots_directly() -> None:
    from rasa.shared.core.slots import Slot

    def __copy__(self: Slot) -> Slot:
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    Slot.__copy__ = __copy__  # type: ignore[attr-defined]


_kinds: Dict[Tuple[type, type], bool] = {}


def is_a(obj: Any, cls: type) -> bool:
    """isinstance(obj, cls), answered once per class of obj: Rasa's events are ABCs, and each
    isinstance through ABCMeta cost more than the rest of walking a conversation's events."""
    key = (type(obj), cls)
    answer = _kinds.get(key)
    if answer is None:
        answer = _kinds[key] = isinstance(obj, cls)
    return answer


def remember_applied_events() -> None:
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    def loops_in(events: Iterable[Any]) -> Set[Text]:
        return {e.name for e in events if is_a(e, ActiveLoop) and e.name}

    def applied_events(self: DialogueStateTracker) -> List[Any]:
        """DialogueStateTracker.applied_events, step for step, each class asked once (is_a), from
        where the walk of the conversation's stored events stopped (rasa_channels/stored_events.py).

        Whether an action ends a loop depends on the loop names anywhere in the events, later
        ones too: a kept walk goes on only when those names are the ones it was walked with."""
        events = self.events
        key = (self.sender_id, self.is_rule_tracker)
        start, applied, loop_names, prefix_loops = 0, [], None, set()
        resumed = APPLIED_MEMO.resume(key, events)
        if resumed is not None:
            n, (walked_with, kept_loops, kept_applied) = resumed
            if kept_loops | loops_in(itertools.islice(events, n, None)) == walked_with:
                start, applied, loop_names, prefix_loops = n, list(kept_applied), walked_with, set(kept_loops)
        if loop_names is None:
            loop_names = frozenset(loops_in(events))
        stored_run = True
        for i, event in enumerate(itertools.islice(events, start, None), start):
            if stored_run and not is_stored(event):
                stored_run = False
                if i > start:
                    APPLIED_MEMO.keep(
                        key, itertools.islice(events, i), (loop_names, frozenset(prefix_loops), list(applied))
                    )
            if is_a(event, ActiveLoop) and event.name:
                prefix_loops.add(event.name)
            if is_a(event, Restarted) or is_a(event, SessionStarted):
                applied = []
            elif is_a(event, ActionReverted):
                self._undo_till_previous(ActionExecuted, applied)
            elif is_a(event, UserUtteranceReverted):
                self._undo_till_previous(UserUttered, applied)
                self._undo_till_previous(ActionExecuted, applied)
            elif (
                is_a(event, ActionExecuted)
                and event.action_name in loop_names
                and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)
            ):
                self._undo_till_previous_loop_execution(event.action_name, applied)
            else:
                applied.append(event)
        if stored_run and len(events) > start:  # every event stored: the whole walk is kept
            APPLIED_MEMO.keep(key, events, (loop_names, frozenset(prefix_loops), list(applied)))
        return applied

    def remembered(self: DialogueStateTracker) -> List[Any]:
        events = self.events
        kept = self.__dict__.get("_jz_applied")
        if kept is not None and _same_events(kept[0], events):
            return list(kept[1])
        result = applied_events(self)
        self.__dict__["_jz_applied"] = (_events_key(events), list(result))
        return result

    DialogueStateTracker.applied_events = remembered  # type: ignore[method-assign]


def _events_key(events: Any) -> Tuple[Any, int, Any]:
    """What tells a tracker's events apart from what they were: Rasa only appends to the
    deque, or replaces it."""
    return (events, len(events), events[-1] if events else None)


def _same_events(key: Tuple[Any, int, Any], events: Any) -> bool:
    return key[0] is events and key[1] == len(events) and (not events or key[2] is events[-1])


def copy_trackers_from_their_state() -> None:
    import copy
    import math
    import operator

    from rasa.shared.constants import DEFAULT_SENDER_ID
    from rasa.shared.core.trackers import DialogueStateTracker

    replayed_copy = DialogueStateTracker.copy
    timestamp_of = operator.attrgetter("timestamp")

    def copy_from_state(self: DialogueStateTracker) -> DialogueStateTracker:
        if (
            type(self) is not DialogueStateTracker
            or type(self.slots) is not dict
            or not all(map(math.inf.__ge__, map(timestamp_of, self.events)))  # each <= inf, walked in C
        ):
            return replayed_copy(self)
        new = DialogueStateTracker(
            self.sender_id or DEFAULT_SENDER_ID, None, self._max_event_history, is_rule_tracker=self.is_rule_tracker
        )  # as init_copy; its slots follow
        new.slots = {name: copy.copy(slot) for name, slot in self.slots.items()}
        new.events = new._create_events(self.events)  # a deque of its own, the same events
        new._paused = self._paused
        new.followup_action = self.followup_action
        new.latest_action = copy.copy(self.latest_action)
        new.latest_message = self.latest_message
        new.latest_bot_utterance = self.latest_bot_utterance
        # Rasa changes a loop's flags in place (interrupted, rejected): the copy's are its own.
        new.active_loop = copy.copy(self.active_loop)
        return new

    DialogueStateTracker.copy = copy_from_state  # type: ignore[method-assign]


def match_rules_on_recent_states() -> None:
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
    from rasa.shared.core.domain import Domain, State
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    find_action_from_rules = RulePolicy._find_action_from_rules
    prediction_states = RulePolicy._prediction_states
    create_feature_key = RulePolicy._create_feature_key
    recent = threading.local()  # .keep: how many latest states the current rule lookup needs

    def longest_rule(policy: RulePolicy) -> int:
        lookups = [policy.lookup.get(RULES) or {}, policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH) or {}]
        key = tuple((id(lookup), len(lookup)) for lookup in lookups)
        cached: Optional[Tuple[Any, int]] = policy.__dict__.get("_jz_longest_rule")
        if cached is None or cached[0] != key:
            longest = max((len(policy._rule_key_to_state(k)) for lookup in lookups for k in lookup), default=0)
            cached = (key, longest)
            policy.__dict__["_jz_longest_rule"] = cached
        return cached[1]

    def latest_states(tracker: DialogueStateTracker, domain: Domain, keep: int) -> List[State]:
        """tracker.past_states(domain)[-keep:], computing only those states (remembered while
        the tracker's events stay the same; each caller gets its own copy of the states)."""
        kept = tracker.__dict__.get("_jz_latest_states")
        if kept is None or not _same_events(kept[0], tracker.events) or kept[1] != (keep, id(domain)):
            kept = (_events_key(tracker.events), (keep, id(domain)), computed_latest_states(tracker, domain, keep))
            tracker.__dict__["_jz_latest_states"] = kept
        return [{name: dict(sub) for name, sub in state.items()} for state in kept[2]]

    def computed_latest_states(tracker: DialogueStateTracker, domain: Domain, keep: int) -> List[State]:
        """The states at the latest `keep` actions, replayed from where the replay of the
        conversation's stored events last reached (the tracker there, kept: STATES_MEMO)."""
        applied = tracker.applied_events()
        skip = sum(1 for e in applied if is_a(e, ActionExecuted)) + 1 - keep
        if skip <= 0:
            return tracker.past_states(domain)
        key = (tracker.sender_id, tracker.is_rule_tracker)
        start, prior, seen = 0, None, 0
        resumed = STATES_MEMO.resume(key, applied)
        if resumed is not None:
            n, (kept_domain, kept_seen, kept_prior) = resumed
            if kept_domain is domain and kept_seen <= skip:
                start, prior, seen = n, kept_prior.copy(), kept_seen
        if prior is None:
            prior = tracker.init_copy()  # as generate_all_prior_trackers
        # prior.update(event) without its checks: every event is an Event, and a tracker made by
        # init_copy has no model or assistant id to stamp on one.
        plain = not (prior.model_id or prior.assistant_id)
        states: List[State] = []
        looking = True  # for where to keep the replay: the first state wanted, or the first unstored event
        for i in range(start, len(applied)):
            event = applied[i]
            executed = is_a(event, ActionExecuted)
            if looking and ((executed and seen == skip) or not is_stored(event)):
                looking = False
                if i > start:
                    STATES_MEMO.keep(key, applied[:i], (domain, seen, prior.copy()))
            if executed:
                if seen >= skip:
                    states.append(domain._clean_state(domain.get_active_state(prior)))
                seen += 1
            if plain:
                prior.events.append(event)
                event.apply_to(prior)
            else:
                prior.update(event)
        states.append(domain._clean_state(domain.get_active_state(prior)))
        return states

    def _prediction_states(
        self: RulePolicy,
        tracker: DialogueStateTracker,
        domain: Domain,
        use_text_for_last_user_input: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[State]:
        keep = getattr(recent, "keep", None)
        featurizer = self.featurizer
        if keep is None or type(featurizer) is not MaxHistoryTrackerFeaturizer:
            return prediction_states(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
        # MaxHistoryTrackerFeaturizer.prediction_states for rule data (no rule-only turns to
        # ignore, no action_unlikely_intent to drop), on the latest states.
        states = featurizer.slice_state_history(latest_states(tracker, domain, keep), featurizer.max_history)
        featurizer._choose_last_user_input([states], use_text_for_last_user_input)
        return states

    def _find_action_from_rules(
        self: RulePolicy, tracker: DialogueStateTracker, domain: Domain, use_text_for_last_user_input: bool
    ) -> Tuple[Optional[Text], Optional[Text], bool]:
        keep = longest_rule(self)
        if keep > 0:
            recent.keep, recent.by_text = keep, use_text_for_last_user_input
            try:
                return find_action_from_rules(self, tracker, domain, use_text_for_last_user_input)
            except _WholeHistoryNeeded:
                pass
            finally:
                recent.keep = recent.by_text = None
        return find_action_from_rules(self, tracker, domain, use_text_for_last_user_input)

    def _create_feature_key(self: RulePolicy, states: List[State]) -> Optional[Text]:
        if getattr(recent, "keep", None) is not None:
            if recent.by_text:
                # The lookup by the message's text found no rule, so it predicts no action,
                # and RulePolicy._predict then drops its source: any key does.
                return create_feature_key(self, states)
            raise _WholeHistoryNeeded
        return create_feature_key(self, states)

    RulePolicy._prediction_states = _prediction_states  # type: ignore[method-assign]
    RulePolicy._find_action_from_rules = _find_action_from_rules  # type: ignore[method-assign]
    RulePolicy._create_feature_key = _create_feature_key  # type: ignore[method-assign]


def run_graphs_in_order() -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.graph import GraphSchema
    from rasa.engine.runner.dask import DaskGraphRunner

    def run(
        self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None
    ) -> Dict[Text, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        schemas: Dict[Tuple[Text, ...], GraphSchema] = self.__dict__.setdefault("_jz_minimal_schemas", {})
        schema = schemas.get(tuple(run_targets))
        if schema is None:
            schema = schemas[tuple(run_targets)] = self._graph_schema.minimal_graph_schema(run_targets)
        done: Dict[Text, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in schema.nodes:
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure that none of the input "
                    f"names passed to the `run` method are the same as node names in the graph schema."
                )
            done[name] = (name, value)  # as DaskGraphRunner._add_inputs_to_graph

        def result(name: Text) -> Any:
            if name in done:
                return done[name]
            node = schema.nodes.get(name)
            if node is None:  # not a key of the graph: dask passes the name itself
                return name
            done[name] = self._instantiated_nodes[name](*(result(need) for need in node.needs.values()))
            return done[name]

        try:
            return dict(result(target) for target in run_targets)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    DaskGraphRunner.run = run  # type: ignore[method-assign]
