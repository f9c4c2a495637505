"""Celery: the app built from settings, the beat schedule, and thin tasks."""
