"""The staff console: server-rendered pages on top of the same domain functions as the API."""
