"""Rasa's tracker store (rasa_channels/tracker_store.py) in Rasa's own environment: the
database holds masked messages and sealed slots, and a conversation read back still has
the phone number the flow needs on its next turn."""

from __future__ import annotations

import json

from tests.support.rasa_script import run_rasa_script

PHONE, ID = "13812345678", "360426199101010071"

SCRIPT = r'''
import asyncio, json, logging, sys
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_channels.tracker_store import MaskingSQLTrackerStore

db, out, phone, id_number = sys.argv[1:5]
domain = Domain.from_yaml("""
version: "3.1"
slots:
  urgent_contact: {type: any, mappings: [{type: custom}]}
  urgent_what: {type: any, mappings: [{type: custom}]}
""")
said = f"渠县三汇镇，电话{phone}，身份证{id_number}"

async def main():
    store = MaskingSQLTrackerStore(domain=domain, host=f"sqlite:///{db}", dialect="sqlite")
    tracker = DialogueStateTracker("conv-1", domain.slots)
    tracker.update(UserUttered(said, parse_data={"text": said, "intent": {"name": "inform"},
                                                 "entities": [{"entity": "phone", "value": phone}]}))
    tracker.update(SlotSet("urgent_contact", phone))
    tracker.update(SlotSet("urgent_what", said))
    tracker.update(BotUttered(f"收到，电话 {phone}"))
    await store.save(tracker)
    back = await store.retrieve("conv-1")
    # A later turn: only its own events are protected and added; the stored rows stay as they were.
    import sqlite3
    rows_before = sqlite3.connect(db).execute("select id, data from events order by id").fetchall()
    later = await store.retrieve("conv-1")
    later.update(UserUttered(f"再打{phone}", parse_data={"text": f"再打{phone}", "intent": {"name": "inform"}}))
    await store.save(later)
    rows_after = sqlite3.connect(db).execute("select id, data from events order by id").fetchall()
    assert rows_after[: len(rows_before)] == rows_before and len(rows_after) == len(rows_before) + 1
    assert phone not in rows_after[-1][1]
    # Event types are resolved as Rasa's own walk over the Event classes does (rasa_channels.speedups).
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses
    for cls in all_subclasses(Event):
        assert Event.resolve_by_type(cls.type_name) is next(c for c in all_subclasses(Event) if c.type_name == cls.type_name)
    logging.getLogger("rasa.core.processor").error("message failed: %s", said)  # masked on stderr
    with open(out, "w") as fh:
        json.dump({"contact": back.get_slot("urgent_contact"), "what": back.get_slot("urgent_what"),
                   "text": back.latest_message.text}, fh, ensure_ascii=False)

asyncio.run(main())
'''


def test_the_tracker_store_keeps_no_number_in_the_clear_and_the_flow_keeps_its_slot(tmp_path):
    db, out = tmp_path / "rasa_tracker.db", tmp_path / "out.json"
    run = run_rasa_script(
        "import logging; logging.basicConfig()  # as Rasa does, before it loads our modules\nimport rasa_channels\n"
        + SCRIPT,
        str(db),
        str(out),
        PHONE,
        ID,
        data_dir=tmp_path,
    )
    got = json.loads(out.read_text())
    # What the flow reads back: the slots whole (sealed in the database), earlier messages masked.
    assert got["contact"] == PHONE and ID in got["what"]
    assert got["text"] == "渠县三汇镇，电话138****5678，身份证360***********0071"
    raw = db.read_bytes()
    assert PHONE.encode() not in raw and ID.encode() not in raw
    assert b"jz-sealed:v1:" in raw
    assert (tmp_path / "tracker_secret").stat().st_mode & 0o077 == 0
    # Rasa's process logs masked too (rasa_channels installs it on import).
    assert "message failed" in run.stderr and PHONE not in run.stderr and ID not in run.stderr
