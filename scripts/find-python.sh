#!/usr/bin/env bash
# Prints the path of a Python interpreter of the given minor version (3.10, 3.11).
# Looks at, in order: $JZ_PYTHON_<major>_<minor> (override), pythonX.Y on PATH,
# pyenv's versions folder, /usr/bin and /usr/local/bin. Fails with a message that
# says how to get one.
set -euo pipefail
want="${1:?usage: find-python.sh 3.10}"
var="JZ_PYTHON_${want/./_}"
candidates=()
[ -n "${!var:-}" ] && candidates+=("${!var}")
command -v "python$want" >/dev/null 2>&1 && candidates+=("$(command -v "python$want")")
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
command -v pyenv >/dev/null 2>&1 && pyenv_root="$(pyenv root 2>/dev/null || echo "$pyenv_root")"
for d in $(ls -d "$pyenv_root"/versions/"$want".* 2>/dev/null | sort -t. -k3 -n -r); do
  candidates+=("$d/bin/python$want")
done
candidates+=("/usr/bin/python$want" "/usr/local/bin/python$want")
for py in "${candidates[@]}"; do
  # pyenv shims exist for every version but fail for ones not installed: check it runs.
  if [ -x "$py" ] && "$py" -c "import sys, venv; assert sys.version.startswith('$want.')" >/dev/null 2>&1; then
    echo "$py"; exit 0
  fi
done
cat >&2 <<MSG
error: Python $want was not found.
  Looked at \$$var, python$want on PATH, $pyenv_root/versions/$want.*, /usr/bin, /usr/local/bin.
  Install it (e.g. 'pyenv install $want' or your distribution's python$want and python$want-venv),
  or point $var at an interpreter: make $var=/path/to/python$want ...
MSG
exit 1
