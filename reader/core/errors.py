"""Errors the user can act on. The CLI prints their message on one line and exits 1."""


class ReaderError(Exception):
    """A user or data error with a message fit to show as it is."""


class NoSpace(ReaderError):
    """The disk is full: nothing of the write was saved (the message says what to do)."""

    def __init__(self) -> None:
        from reader.core.repair import NO_SPACE

        super().__init__(NO_SPACE)
