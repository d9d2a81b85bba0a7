"""Rasa 3.6's LogisticRegressionClassifier with what it hard-codes made settable: the inverse
regularisation strength C (sklearn's default 1.0), class_weight ("balanced"), and row
normalisation of the summed sparse features, so a long message's many n-grams do not make the
classifier overconfident just by their number."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize


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

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        X = csr_matrix(super()._create_X(messages), dtype=float)
        if self.config["norm"]:
            X = normalize(X, norm=self.config["norm"])
        return X
