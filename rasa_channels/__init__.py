"""Custom Rasa input channels (run inside the Rasa environment, Python 3.10).

Registered in credentials.yml. Not a model input (bot/rasa_model.py MODEL_INPUTS):
changing a channel does not retrain the model.
"""
