"""rasa-sdk custom actions: thin adapters between Rasa and the service API."""
