"""No Python module in bot/ or actions/ over 400 lines: a module that grows past it is doing
more than one thing, and is split before it grows (`make lint`)."""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 400
ROOTS = ("bot", "actions")


def too_long(root: Path) -> list[tuple[Path, int]]:
    found = []
    for folder in ROOTS:
        for path in sorted((root / folder).rglob("*.py")):
            n = len(path.read_text(encoding="utf-8").splitlines())
            if n > LIMIT:
                found.append((path.relative_to(root), n))
    return found


def main() -> int:
    found = too_long(Path(__file__).resolve().parents[1])
    for path, n in found:
        print(f"{path}: {n} lines (at most {LIMIT}: split it by concern)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
