"""Readers who subscribe themselves: double opt-in, preferences, consent, export and forget."""
