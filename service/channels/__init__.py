"""Channels: one adapter per destination kind behind one small interface (DESIGN.md decision 6)."""
