"""NLU quality: intent macro-F1 and entity F1 on the held-out split (tests/nlu/heldout.yml,
never trained on), and a 3-fold cross-validation report with a lighter config."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.rasa_model import ensure_model, rasa_bin, rasa_env

OUT = PROJECT_ROOT / "results" / "nlu"
# Places come from the lookup table (config.yml: RegexEntityExtractor), not from the classifier.
ENTITY_REPORT = "RegexEntityExtractor_report.json"


def _rasa(*args: str) -> None:
    subprocess.run(
        [str(rasa_bin()), *args],
        cwd=PROJECT_ROOT,
        env=rasa_env(),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _report(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _entity_f1(report: dict) -> float:
    # "micro avg" when present, else the weighted average over entity types (not the "no entity" label).
    for key in ("micro avg", "weighted avg"):
        if key in report:
            return report[key]["f1-score"]
    raise KeyError("no average in the entity report")


def run() -> dict:
    model = ensure_model()
    heldout = OUT / "heldout"
    _rasa("test", "nlu", "--model", str(model), "--nlu", "tests/nlu/heldout.yml", "--out", str(heldout), "--no-plot")
    intents = _report(heldout / "intent_report.json")
    entities = _report(heldout / ENTITY_REPORT)
    worst = sorted(
        (
            (v["f1-score"], k)
            for k, v in intents.items()
            if isinstance(v, dict) and "support" in v and k not in ("micro avg", "macro avg", "weighted avg")
        )
    )[:3]
    figures = {
        "heldout_examples": intents["macro avg"]["support"],
        "heldout_intent_macro_f1": round(intents["macro avg"]["f1-score"], 3),
        "heldout_intent_accuracy": round(intents.get("accuracy", 0), 3),
        "heldout_entity_f1": round(_entity_f1(entities), 3),
        "heldout_entity_macro_f1": round(entities["macro avg"]["f1-score"], 3),
        "heldout_weakest_intents": ", ".join(f"{k} {f:.2f}" for f, k in worst),
    }
    cv = OUT / "cross-validation"
    _rasa(
        "test",
        "nlu",
        "--nlu",
        "data/nlu",
        "--config",
        "config_cv.yml",
        "--cross-validation",
        "--folds",
        "3",
        "--out",
        str(cv),
        "--no-plot",
    )
    cv_intents = _report(cv / "intent_report.json")
    cv_entities = _report(cv / ENTITY_REPORT)
    figures.update(
        {
            "cv3_intent_macro_f1": round(cv_intents["macro avg"]["f1-score"], 3),
            "cv3_entity_f1": round(_entity_f1(cv_entities), 3),
        }
    )
    return figures
