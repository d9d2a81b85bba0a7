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


PERSIST_SCRIPT = r"""
import json, sys
import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu_components.logistic_intent import PARAMETERS_FILE, TunedLogisticRegressionClassifier

rng = np.random.default_rng(7)
intents = ["ask_policy", "greet", "report_urgent", "screen"]
def message(i):
    m = Message(data={TEXT: f"m{i}", "intent": intents[i % 4]})
    row = scipy.sparse.random(1, 40, density=0.2, random_state=i, format="coo")
    row.data += (i % 4)  # each intent's rows differ
    m.add_features(Features(row, FEATURE_TYPE_SENTENCE, TEXT, "cv"))
    return m
examples = [message(i) for i in range(80)]
from pathlib import Path
Path(sys.argv[1]).mkdir()
storage = LocalModelStorage(Path(sys.argv[1]))
context = ExecutionContext(GraphSchema({}), node_name="clf")
config = {**TunedLogisticRegressionClassifier.get_default_config(), "C": 1000, "norm": "l2", "class_weight": None}
trained = TunedLogisticRegressionClassifier.create(config, storage, Resource("clf"), context)
trained.train(TrainingData(examples))
X = trained._create_X(examples)
loaded = TunedLogisticRegressionClassifier.load(config, storage, Resource("clf"), context)
skops_loaded_before = "skops.io" in sys.modules
# A model trained before this format (Rasa's own skops file) still loads.
old = TunedLogisticRegressionClassifier.create(config, storage, Resource("old"), context)
old.clf = trained.clf
LogisticRegressionClassifier.persist(old)
from_skops = TunedLogisticRegressionClassifier.load(config, storage, Resource("old"), context)
never_trained = TunedLogisticRegressionClassifier.load(config, storage, Resource("none"), context)
with storage.read_from(Resource("clf")) as d:
    files = sorted(p.name for p in d.iterdir())
processed = loaded.process([message(i) for i in range(8)])
json.dump({
    "files": files,
    "same": bool((loaded.clf.predict_proba(X) == trained.clf.predict_proba(X)).all()),
    "same_classes": list(loaded.clf.classes_) == list(trained.clf.classes_),
    "skops_same": bool((from_skops.clf.predict_proba(X) == trained.clf.predict_proba(X)).all()),
    "skops_imported_by_load": skops_loaded_before,
    "never_trained_fitted": hasattr(never_trained.clf, "coef_"),
    "ranked": [[r["name"] for r in m.get("intent_ranking")] for m in processed],
    "expected": [sorted(intents, key=lambda n: -dict(zip(trained.clf.classes_, p))[n]) for p in trained.clf.predict_proba(X[:8])],
}, open(sys.argv[2], "w"))
"""


def test_a_trained_classifier_loads_back_the_same_without_skops(tmp_path):
    out = tmp_path / "out.json"
    run_rasa_script(PERSIST_SCRIPT, str(tmp_path / "storage"), str(out), data_dir=tmp_path)
    result = json.loads(out.read_text())
    assert result["files"] == ["logistic_regression.npz"]
    assert result["same"] and result["same_classes"]
    assert result["skops_imported_by_load"] is False
    assert result["skops_same"] is True
    assert result["never_trained_fitted"] is False
    assert result["ranked"] == result["expected"]
