"""The HTTP shell: FastAPI routers around the domain functions."""
