"""Channel gateways: thin adapters between a messaging platform and Rasa's REST channel."""
