"""Channels: one adapter per destination kind behind one small interface (ARCHITECTURE.md decision 6)."""
