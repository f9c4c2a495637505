"""The ``bantin`` command line."""
