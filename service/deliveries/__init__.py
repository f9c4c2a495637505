"""Announcements to subscribers: planning deliveries in bulk, sending batches, retrying from rows."""
