"""Subscribers and their channels."""
