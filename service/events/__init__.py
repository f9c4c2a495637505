"""The transactional outbox: events are rows first, the broker only carries their ids."""
