"""The Textual app: it only calls `reader.core`."""
