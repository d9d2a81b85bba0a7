"""Social-assistance (社会救助) assistant: domain modules and the FastAPI service."""
