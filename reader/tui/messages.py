"""App-wide messages, posted by workers (thread-safe) and handled on the UI thread."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class IndexProgress(Message):
    """The start-up scan/index worker made progress."""

    def __init__(self, done: int, total: int, infos: list[Any] | None = None) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.infos = infos  # documents read since the last progress message, if any


class IndexFinished(Message):
    """The start-up worker finished: the catalog's documents and a notice for the user."""

    def __init__(self, infos: list[Any], notice: str | None, severity: str = "information") -> None:
        super().__init__()
        self.infos = infos
        self.notice = notice
        self.severity = severity


class SearchFinished(Message):
    """A search finished: `result` is a `SearchResult`, or `error` says why there is none.
    `offset` > 0: a further page of hits for the same query."""

    def __init__(
        self, query: str, result: Any | None, error: str | None = None, *, offset: int = 0
    ) -> None:
        super().__init__()
        self.query = query
        self.result = result
        self.error = error
        self.offset = offset


class TranslationUpdate(Message):
    """Translated (or cached) paragraphs arrived for the open article."""

    def __init__(self, doc_id: str, paragraphs: list[Any], done: int, total: int) -> None:
        super().__init__()
        self.doc_id = doc_id
        self.paragraphs = paragraphs
        self.done = done
        self.total = total


class TranslationStatus(Message):
    """The translation pane's state changed: `kind` in ready/same/missing/error/offline."""

    def __init__(
        self,
        doc_id: str,
        kind: str,
        text: str,
        model: tuple[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.doc_id = doc_id
        self.kind = kind
        self.text = text
        self.model = model


class InstallProgress(Message):
    """A model install made progress (bytes done, bytes total)."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


class TagsChanged(Message, bubble=False):
    """The tag store changed (tag counts and views must refresh). From a teammate through a
    shared store: who, and the documents touched (empty: any). The app hands it to each open
    screen; it does not bubble back."""

    def __init__(self, doc_ids: tuple[str, ...] = (), author: str = "") -> None:
        super().__init__()
        self.doc_ids = doc_ids
        self.author = author

    def touches(self, doc_id: str) -> bool:
        return not self.doc_ids or doc_id in self.doc_ids


class TagServerState(Message):
    """The shared tag store's live connection was lost (`connected` False) or found again."""

    def __init__(self, connected: bool) -> None:
        super().__init__()
        self.connected = connected


class CorpusChanged(Message):
    """The folder watcher indexed changed files: `ids` updated or added, `removed` gone."""

    def __init__(
        self,
        ids: list[str],
        removed: list[str],
        infos: list[Any],
        notice: str | None,
        severity: str = "information",
    ) -> None:
        super().__init__()
        self.ids = ids
        self.removed = removed
        self.infos = infos  # the catalog entries of `ids`
        self.notice = notice
        self.severity = severity


class CoreNotice(Message):
    """A warning the core logged (a damaged catalog or translation cache rebuilt, ...); posted
    from any thread, shown once as a notification."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
