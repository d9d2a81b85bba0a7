"""Rasa 3.6 hot spots fixed from outside, installed when Rasa imports rasa_channels.

Rasa validates every custom action's answer with `jsonschema.validate`, which first checks
the (constant) schema itself against the JSON Schema metaschema: profiling our bot, that
check was about 40% of the Rasa process's time on a policy answer. Here the answer is
validated by one validator built once from the same schema, with the same error message.
"""

from __future__ import annotations

from typing import Any, Dict, Text


def validate_action_results_with_one_validator() -> None:
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator = validator_for(schema)(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, make sure your response from the "
                f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = _validate_action_result
