"""Exchange: export formats (a registry, formats.py) and import; they read the tag store,
and import writes it only through the tag service."""
