"""Errors the user can act on. The CLI prints their message on one line and exits 1."""


class ReaderError(Exception):
    """A user or data error with a message fit to show as it is."""
