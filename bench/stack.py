"""The whole assistant on free loopback ports with a throwaway data folder, for the benches."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.config import Settings
from bot.stack import Stack, free_port


@contextmanager
def running_stack(**overrides) -> Iterator[tuple[Stack, Path]]:
    """(the started stack, its data folder); everything is stopped and removed afterwards."""
    with tempfile.TemporaryDirectory() as d:
        stack = Stack(
            Settings(
                data_dir=Path(d), rasa_port=free_port(), action_port=free_port(), service_port=free_port(), **overrides
            )
        )
        stack.start()
        try:
            yield stack, Path(d)
        finally:
            stack.stop()
