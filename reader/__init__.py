"""source-reader: read, search, translate and tag a multilingual corpus from the terminal."""

__version__ = "0.1.0"
