"""Keeps what a server built at start-up out of Python's full garbage collections.

A Rasa process holds about half a million objects once its model is loaded (TensorFlow,
sklearn, the graph's components); each full collection walked all of them, 200-230 ms in
which the process answered no one, a few times an hour under load. The service (knowledge
base, card index, understanding pipeline) and the action server are alike on a smaller
scale. Those objects live as long as the process, so once start-up is done they are moved
to the permanent generation (gc.freeze): later collections look only at what came after.
Used by Rasa's REST channel (rasa_channels/rest.py), the service and the action server.
"""

from __future__ import annotations

import gc
import logging


def freeze_start_up_objects(log: logging.Logger) -> int:
    """Collects what start-up left as garbage, then freezes the rest; says on `log`, and
    returns, how many were frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("start-up objects kept out of full garbage collections: %d", frozen)
    return frozen
