"""The web platform: FastAPI over the same service functions as the CLI."""
