"""Rasa-side adapters (run inside the Rasa environment, Python 3.10): custom input
channels (rest.py, registered in credentials.yml) and the tracker store
(tracker_store.py, named in endpoint.yml).

Not model inputs (bot/rasa_model.py MODEL_INPUTS): changing them does not retrain the model.
Rasa imports this package before it serves anything (the channels load at start-up), so
this is where the Rasa process starts masking personal numbers in all it logs or prints
(rasa.log is its stdout and stderr): bot.log_masking.install_process_masking; and where
Rasa's own hot spots are fixed (speedups.py, action_calls.py).
"""

from bot.log_masking import install_process_masking
from rasa_channels.action_calls import lighter_action_calls, reuse_endpoint_sessions
from rasa_channels.speedups import (
    copy_slots_directly,
    copy_trackers_from_their_state,
    match_rules_on_recent_states,
    remember_applied_events,
    resolve_event_types_once,
    run_graphs_in_order,
    validate_action_results_with_one_validator,
)

install_process_masking()
validate_action_results_with_one_validator()
resolve_event_types_once()
match_rules_on_recent_states()
run_graphs_in_order()
reuse_endpoint_sessions()
copy_slots_directly()
remember_applied_events()
copy_trackers_from_their_state()
lighter_action_calls()
