"""Images uploaded from the console: checked by decoding, stripped of metadata, stored by content hash."""
