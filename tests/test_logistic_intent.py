"""nlu_components/logistic_intent.py: the classifier's feature rows, laid out without scipy's
block stacking, are the very matrix Rasa's LogisticRegressionClassifier._create_X builds, for
every NLU training example of the trained model (one message at a time, as when serving, and
all at once, as when training). In Rasa's environment."""

from __future__ import annotations

import json

from bot.rasa_model import ensure_model
from tests.support.rasa_script import run_rasa_script

SCRIPT = r"""
import asyncio, json, sys
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.importers.importer import TrainingDataImporter
from scipy.sparse import csr_matrix
from nlu_components.logistic_intent import TunedLogisticRegressionClassifier, _sentence_rows

def same(a, b):
    return a.shape == b.shape and (a != b).nnz == 0

async def main():
    agent = Agent.load(sys.argv[1])
    runner = agent.processor.graph_runner
    nodes = runner._graph_schema.nodes
    classifier = next(n for n, s in nodes.items() if s.uses is TunedLogisticRegressionClassifier)
    featurized = list(nodes[classifier].needs.values())[0]
    texts = [m.get("text") for m in TrainingDataImporter.load_from_dict(training_data_paths=["data"]).get_nlu_data().intent_examples]
    texts += ["", "。", "x" * 300, "身份证510722199001011234", "你好 hello ١٢٣"]
    messages, single = [], []
    for i, text in enumerate(texts):
        tracker = await agent.processor.fetch_tracker_and_update_session(f"rows-{i}")
        out = runner.run(inputs={"__message__": [UserMessage(text, sender_id=f"rows-{i}")], "__tracker__": tracker}, targets=[featurized])
        batch = out[featurized]
        if text:  # an empty text has no features at all: a row of width 0, alone
            messages += batch
        single.append(same(_sentence_rows(batch), csr_matrix(LogisticRegressionClassifier._create_X(None, batch), dtype=float)))
    together = same(_sentence_rows(messages), csr_matrix(LogisticRegressionClassifier._create_X(None, messages), dtype=float))
    with open(sys.argv[2], "w") as fh:
        json.dump({"examples": len(texts), "single": sum(single), "together": together}, fh)

asyncio.run(main())
"""


def test_feature_rows_are_rasas_own(tmp_path):
    out = tmp_path / "out.json"
    run_rasa_script(SCRIPT, str(ensure_model()), str(out), data_dir=tmp_path, timeout=600)
    result = json.loads(out.read_text())
    assert result["examples"] > 300
    assert result["single"] == result["examples"]
    assert result["together"] is True
