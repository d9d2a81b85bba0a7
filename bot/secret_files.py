"""Random secrets kept in the data folder, shared by every process that uses it.

No third-party imports: Rasa's environment (rasa_channels/) uses it as well as the service.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path


def data_dir_secret(data_dir: Path | str, name: str) -> str:
    """A random secret kept in data_dir/<name> (mode 600): created once, then shared by
    every process that uses the same data folder."""
    path = Path(data_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    except FileExistsError:
        pass
    for _ in range(100):  # another process may be writing it right now
        secret = path.read_text().strip()
        if secret:
            return secret
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty: delete it, or set the secret in the environment")
