"""The FastAPI service: thin routers over the domain modules."""
