"""Rasa 3.6's LogisticRegressionClassifier with what it hard-codes made settable: the inverse
regularisation strength C (sklearn's default 1.0), class_weight ("balanced"), and row
normalisation of the summed sparse features, so a long message's many n-grams do not make the
classifier overconfident just by their number.

The feature row is put together here, not by Rasa's `_create_X`: Rasa combines every
featurizer's sequence AND sentence matrices through `scipy.sparse.hstack` and `bmat` (built
for large block matrices), to keep only the sentence row; on a one-line message that was about
a seventh of the Rasa process's time on a policy answer. Here each featurizer's sentence row
is laid side by side in the same order, giving the same matrix.

The fitted model is kept as its numbers (coefficients, intercepts, intent names) in an .npz
read without pickle, not through skops as Rasa does: importing skops.io after TensorFlow
walks every loaded module for each of ~760 type names, 9.5 s of Rasa's cold start here."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

logger = logging.getLogger(__name__)

PARAMETERS_FILE = "logistic_regression.npz"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class TunedLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Sparse-feature logistic regression (no TensorFlow), with C, class_weight and norm settable."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "C": 1.0,
            "class_weight": "balanced",
            "norm": None,  # None, "l1" or "l2": per-message scaling of the feature row
        }

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf = LogisticRegression(
            C=self.config["C"],
            class_weight=self.config["class_weight"],
            solver=self.config["solver"],
            max_iter=self.config["max_iter"],
            tol=self.config["tol"],
            random_state=self.config["random_state"],
            fit_intercept=True,
        )

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(
                model_dir / PARAMETERS_FILE,
                coef=self.clf.coef_,
                intercept=self.clf.intercept_,
                classes=np.asarray(self.clf.classes_, dtype=str),
                n_iter=self.clf.n_iter_,
            )

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "TunedLogisticRegressionClassifier":
        try:
            with model_storage.read_from(resource) as model_dir:
                saved_file = model_dir / PARAMETERS_FILE
                if not saved_file.exists():  # a model persisted by Rasa's own (skops) code
                    return super().load(config, model_storage, resource, execution_context, **kwargs)
                with np.load(saved_file, allow_pickle=False) as saved:
                    component = cls(config, execution_context.node_name, model_storage, resource)
                    clf = component.clf
                    clf.coef_, clf.intercept_, clf.classes_ = saved["coef"], saved["intercept"], saved["classes"]
                    clf.n_iter_ = saved["n_iter"]
                    clf.n_features_in_ = clf.coef_.shape[1]
                    return component
        except ValueError:  # no resource: the classifier was never trained (as Rasa's load does)
            logger.debug("no trained %s in the model storage", cls.__name__)
            return cls.create(config, model_storage, resource, execution_context)

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        X = _sentence_rows(messages)
        if self.config["norm"]:
            X = normalize(X, norm=self.config["norm"])
        return X


def _sentence_rows(messages: List[Message]) -> csr_matrix:
    """One row per message: its text's sparse sentence features, featurizer after featurizer,
    then its dense ones, as LogisticRegressionClassifier._create_X lays them out."""
    columns: List[np.ndarray] = []
    data: List[np.ndarray] = []
    indptr = [0]
    widths = set()
    for message in messages:
        sentence = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
        offset = 0
        row_columns, row_data = [], []
        for block in [f.features for f in sentence if f.is_sparse()] + [f.features for f in sentence if f.is_dense()]:
            if not isinstance(block, scipy.sparse.coo_matrix):
                block = scipy.sparse.coo_matrix(block if scipy.sparse.issparse(block) else np.atleast_2d(block))
            row_columns.append(block.col + offset)
            row_data.append(block.data)
            offset += block.shape[1]
        widths.add(offset)
        if row_columns:
            # Sorted, each column once with its entries summed (as hstack's CSR holds them).
            unique, where = np.unique(np.concatenate(row_columns), return_inverse=True)
            summed = np.zeros(len(unique))
            np.add.at(summed, where, np.concatenate(row_data))
            keep = summed != 0
            columns.append(unique[keep])
            data.append(summed[keep])
            indptr.append(indptr[-1] + int(keep.sum()))
        else:
            indptr.append(indptr[-1])
    if len(widths) > 1:
        raise ValueError(f"messages with feature rows of different widths: {sorted(widths)}")
    shape = (len(messages), widths.pop() if widths else 0)
    return csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0),
            np.concatenate(columns).astype(np.int32) if columns else np.zeros(0, dtype=np.int32),
            np.array(indptr, dtype=np.int32),
        ),
        shape=shape,
    )
