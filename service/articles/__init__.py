"""Articles: create, update, withdraw and schedule; each change writes its outbox event."""
