"""Database layer: engine and sessions, the models, and Alembic migrations."""
