"""Fixtures for the Pilot tests: an app on a copy of the bundled corpus."""

from __future__ import annotations

from typing import Any

import pytest

from reader.core.workspace import Workspace
from reader.tui.app import ReaderApp


@pytest.fixture
def make_app(workspace: Workspace):
    """Build a ReaderApp on the test workspace (index on start unless told otherwise; no
    folder watcher unless `watch=True`)."""

    def make(**options: Any) -> ReaderApp:
        options.setdefault("watch", False)  # the folder watcher only where a test asks
        app = ReaderApp(workspace, **options)
        app.animation_level = "none"
        return app

    return make
