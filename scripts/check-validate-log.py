"""Fails on `rasa data validate` warnings, except unused-response warnings for
responses the forms ask with (utter_ask_*) or the custom actions send."""

import re
import sys
from pathlib import Path

log = Path(sys.argv[1]).read_text(errors="replace")
used_by_actions = set(
    re.findall(r'response="(utter_\w+)"', "".join(p.read_text() for p in Path("actions").rglob("*.py")))
)
problems = []
for line in log.splitlines():
    if "UserWarning" not in line and "WARNING" not in line:
        continue
    m = re.search(r"The utterance '(utter_\w+)' is not used in any story or rule", line)
    if m and (m[1].startswith("utter_ask_") or m[1] in used_by_actions):
        continue
    problems.append(re.sub(r"\x1b\[[0-9;]*m", "", line).strip())
if problems:
    print("rasa data validate warnings:\n" + "\n".join(problems))
    sys.exit(1)
print("rasa data validate: no warnings")
