"""Feeds: which feeds an event touches, rendering them, and the stored bytes."""
