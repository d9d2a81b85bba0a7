#!/usr/bin/env bash
# Every test: static checks (make lint) and the knowledge base check, beside them the Rasa
# checks (data validation, the model, trained only when its inputs changed, the conversation
# tests), then pytest (unit, end-to-end with the real processes, PostgreSQL, Redis and browser
# tests) with the schema tests beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
RASA=.venv-rasa/bin/rasa
export TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 RASA_TELEMETRY_ENABLED=false PYTHONWARNINGS=ignore

mkdir -p results
# The Rasa checks (data validation, the model, the conversation tests) need nothing the static
# checks make, and each side mostly keeps one core busy: they run beside each other.
rasa_checks() {
  $RASA data validate --domain domain --data data --config config.yml >results/validate.log 2>&1 \
    || { cat results/validate.log; return 1; }
  # Any warning fails, except responses that forms (utter_ask_*) or actions (actions/) use,
  # which the validator cannot see.
  $PY scripts/check-validate-log.py results/validate.log
  # The model is trained only when its inputs changed (bot/rasa_model.py).
  model=$($PY -m bot.rasa_model | tail -n 1)
  echo "model: $model"
  rm -rf results/rasa
  $RASA test core --model "$model" --stories tests/conversations \
    --fail-on-prediction-errors --out results/rasa --no-plot >results/rasa-test.log 2>&1 \
    || { tail -n 60 results/rasa-test.log; cat results/rasa/failed_test_stories.yml 2>/dev/null; return 1; }
  grep -E "Correct:|Accuracy|Finished evaluation" results/rasa-test.log | tail -n 5 || true
}
rasa_checks >results/rasa-checks.log 2>&1 &
rasa_pid=$!
trap 'kill $rasa_pid 2>/dev/null || true' EXIT

echo "== lint: ruff check and format, mypy, lint-imports, yamllint"
make --no-print-directory lint

echo "== knowledge base: rebuild and compare with the committed provisions"
$PY -m bot.kb.build --check

echo "== rasa data validate, Rasa model (trained only when its inputs changed), Rasa conversation tests"
wait "$rasa_pid" || { cat results/rasa-checks.log; exit 1; }
trap - EXIT
cat results/rasa-checks.log

echo "== pytest"
# Two workers, a test file each at a time (module fixtures stay in one process): most of
# the suite waits on processes it started (Rasa loading, a killed service coming back),
# so two files overlap well even on two cores.
# schemathesis generates its cases only in a single process (under xdist each operation's test
# passes without sending a request), so its file runs on its own, beside the workers.
SCHEMA_TESTS=tests/service/test_openapi_schema.py
if [ $# -eq 0 ]; then
  $PY -m pytest -q -p no:cacheprovider "$SCHEMA_TESTS" >results/schema-tests.log 2>&1 &
  schema_pid=$!
  trap 'kill $schema_pid 2>/dev/null || true' EXIT
fi
$PY -m pytest -q -p no:cacheprovider -n "${JZ_TEST_WORKERS:-2}" --dist loadfile --ignore="$SCHEMA_TESTS" "$@"
if [ $# -eq 0 ]; then
  wait "$schema_pid" || { cat results/schema-tests.log; exit 1; }
  trap - EXIT
  echo "$SCHEMA_TESTS: $(tail -n 1 results/schema-tests.log)"
fi
