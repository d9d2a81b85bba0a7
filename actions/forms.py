"""What every form's validation shares: reading a message, stepping aside, counting misses.

Our forms are Rasa forms (domain `forms:`, asked with `utter_ask_<slot>`, `requested_slot`,
one `validate_<form>` action each), so their validation actions are rasa-sdk
`FormValidationAction`s. rasa-sdk's default `run` (every `extract_<slot>`, then a
`validate_<slot>` per slot) is replaced by one flow for all of them:

1. `read()` returns the SlotSets for everything the latest message states (several slots
   at once, corrections included); by default rasa-sdk's `extract_<slot>` methods
   (the urgent and volunteer forms), the screen overrides it with one parse of all facts.
2. Something read, or no slot asked (the form starting, or coming back after a rule
   answered an interruption): `filled()` decides what follows (by default Rasa asks the
   form's next empty slot, in the domain's order; the screen asks what the eligibility
   service still needs).
3. A slot was asked and nothing was read:
   - the message is one of the form's `interruptions` (a policy question, "算了", danger…):
     nothing is returned, so Rasa rejects the form, a rule answers, and the form resumes;
   - otherwise it is a miss of the asked slot, counted per slot in `form_misses`: below
     `max_misses`, `missed()` says so and asks again; at `max_misses`, `gave_up()` offers
     the hotline and a person instead of asking the same way forever.

The counter is cleared when anything is read and whenever the form starts.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions.conversation import latest_intent
from actions.replies import HANDOVER_BUTTONS

MISSES_SLOT = "form_misses"  # {asked slot: misses in a row}


class FormValidation(FormValidationAction):
    """Base of our `validate_<form>` actions (abstract: the action server registers only subclasses)."""

    # Intents the form steps aside for when the message fills nothing.
    interruptions: frozenset[str] = frozenset()
    # Misses of one question in a row before the form stops asking it the same way.
    max_misses: int = 2

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        asked = tracker.get_slot(REQUESTED_SLOT)
        read = list(await self.read(dispatcher, tracker, domain))
        if asked and not read:
            if latest_intent(tracker) in self.interruptions:
                return []  # rejected: a rule answers (or stops the form), then the form resumes
            return await self._missed(dispatcher, tracker, domain, asked)
        events = list(await self.filled(dispatcher, tracker, domain, read))
        if tracker.get_slot(MISSES_SLOT) and (read or self._starting(tracker)):
            events.append(SlotSet(MISSES_SLOT, None))
        return events

    async def read(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """SlotSets for what the latest message states ([]: nothing the form can use).
        By default the form's `extract_<slot>` methods, in the domain's slot order."""
        return await self.get_extraction_events(dispatcher, tracker, domain)

    async def filled(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, events: list[EventType]
    ) -> list[EventType]:
        """The events to return when something was read or no slot was asked. By default
        what was read: Rasa then asks the form's next empty slot."""
        return events

    async def missed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, slot: str
    ) -> list[EventType]:
        """A miss below `max_misses`: say so and ask the same question again."""
        dispatcher.utter_message(response="utter_not_heard")
        return [SlotSet(REQUESTED_SLOT, slot)]

    async def gave_up(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, slot: str
    ) -> list[EventType]:
        """`max_misses` misses of one question: offer the hotline and a person. The report
        stays open (the question is asked once more, the count starts again)."""
        dispatcher.utter_message(response="utter_form_hotline_offer", buttons=[HANDOVER_BUTTONS[0]])
        return [SlotSet(REQUESTED_SLOT, slot)]

    async def _missed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, slot: str
    ) -> list[EventType]:
        counts: dict[str, Any] = {} if self._starting(tracker) else dict(tracker.get_slot(MISSES_SLOT) or {})
        misses = int(counts.get(slot) or 0) + 1
        if misses < self.max_misses:
            return [SlotSet(MISSES_SLOT, {slot: misses}), *await self.missed(dispatcher, tracker, domain, slot)]
        return [SlotSet(MISSES_SLOT, None), *await self.gave_up(dispatcher, tracker, domain, slot)]

    def _starting(self, tracker: Tracker) -> bool:
        """Rasa validates a form as it activates it, before the form is the active loop."""
        return (tracker.active_loop or {}).get("name") != self.form_name()
