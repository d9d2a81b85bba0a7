"""rasa-sdk custom actions: thin adapters between Rasa and the service API."""

from bot.log_masking import install_log_masking

# The action server has configured its log handlers before it imports the actions.
install_log_masking()
