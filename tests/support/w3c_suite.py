"""Run the W3C annotation-model test suite's assertions (tests/support/w3c) on an export."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

FOLDER = Path(__file__).with_name("w3c")
FORMATS = FormatChecker()


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = urlparse(value)
    return bool(parsed.scheme) and " " not in value


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value or not (value.endswith("Z") or value[-6] in "+-"):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _registry() -> Registry:
    resources = []
    for path in FOLDER.glob("*.json"):
        if path.name == "assertions.json":
            continue
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["id"], Resource(contents=schema, specification=DRAFT4)))
    return Registry().with_resources(resources)


REGISTRY = _registry()
ASSERTIONS = json.loads((FOLDER / "assertions.json").read_text(encoding="utf-8"))


def check(kind: str, document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The failed assertions of `kind` (annotation, page, collection): (id, type, reason)."""
    failures = []
    for assertion in ASSERTIONS[kind]:
        schema = {"id": f"{assertion['id']}.json", **assertion["schema"]}
        validator = Draft4Validator(schema, registry=REGISTRY, format_checker=FORMATS)
        errors = list(validator.iter_errors(document))
        if errors:
            failures.append((assertion["id"], assertion["assertionType"], errors[0].message))
    return failures


def count(kind: str, assertion_type: str) -> int:
    return sum(1 for a in ASSERTIONS[kind] if a["assertionType"] == assertion_type)
