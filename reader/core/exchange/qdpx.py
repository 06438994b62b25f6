"""REFI-QDA project export (.qdpx): a zip of `project.qde` (QDA-XML 1.0) and `sources/`.

Codes claim, rebuttal, context; each anchored tag is a PlainTextSelection (its GUID is the
tag's id) with a Coding; notes and cached translations are Notes; links are `<Link>`s.
Orphaned tags have no valid span, so they become project-level Notes that quote them.
Positions are code points into the source text, as QualCoder and the standard count them.
Element order follows the schema's sequences (Project-mrt2019.xsd).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from reader.core.tags.annotations import TAGS, now

if TYPE_CHECKING:
    from reader.core.exchange.export import Record
    from reader.core.workspace import Workspace

NS = "urn:QDA-XML:project:1.0"
_GUIDS = uuid.UUID("6f1c1f6e-2f4e-4d7e-9a37-5d1f0c7e9b21")  # namespace for derived GUIDs
CODE_COLORS = {"claim": "#C0392B", "rebuttal": "#2471A3", "context": "#7D8C8D"}
CODE_DESCRIPTIONS = {
    "claim": "A statement a source makes that can be checked.",
    "rebuttal": "A passage that answers or contradicts a claim.",
    "context": "Background that helps read a claim or rebuttal.",
}
VARIABLES = ("document id", "language", "date", "path")


def guid(*parts: str) -> str:
    """A stable GUID derived from `parts`."""
    return str(uuid.uuid5(_GUIDS, "\x1f".join(parts)))


def _el(parent: ET.Element, element: str, /, **attrs: str | None) -> ET.Element:
    clean = {k: v for k, v in attrs.items() if v is not None}
    return ET.SubElement(parent, f"{{{NS}}}{element}", clean)


def _text(parent: ET.Element, name: str, text: str) -> ET.Element:
    element = _el(parent, name)
    element.text = text
    return element


def build_project(records: list[Record], ws: Workspace) -> tuple[bytes, dict[str, str]]:
    """The project.qde bytes and the source files {zip name: text}."""
    stamp = now()
    users = {r.ann.author: guid("user", r.ann.author) for r in records}
    me = guid("user", ws.author)
    users.setdefault(ws.author, me)
    codes = {tag: guid("code", tag) for tag in TAGS}
    variables = {name: guid("variable", name) for name in VARIABLES}

    root = ET.Element(
        f"{{{NS}}}Project",
        {
            "name": f"Tags from {ws.corpus_root.name}",
            "origin": "source-reader",
            "creatingUserGUID": me,
            "creationDateTime": stamp,
        },
    )
    users_el = _el(root, "Users")
    for name, user_guid in sorted(users.items()):
        _el(users_el, "User", guid=user_guid, name=name)
    codebook = _el(_el(root, "CodeBook"), "Codes")
    for tag in TAGS:
        code = _el(codebook, "Code", guid=codes[tag], name=tag, isCodable="true")
        code.set("color", CODE_COLORS[tag])
        _text(code, "Description", CODE_DESCRIPTIONS[tag])
    variables_el = _el(root, "Variables")
    for name in VARIABLES:
        _el(variables_el, "Variable", guid=variables[name], name=name, typeOfVariable="Text")

    sources: dict[str, str] = {}
    notes: list[tuple[str, str, str, str | None]] = []  # guid, name, text, author guid
    project_notes: list[str] = []
    links: list[tuple[str, str, str]] = []
    selected: set[str] = set()
    by_doc: dict[str, list[Record]] = {}
    for record in records:
        by_doc.setdefault(record.doc_id, []).append(record)

    sources_el = ET.Element(f"{{{NS}}}Sources")
    for doc_id, group in by_doc.items():
        first = group[0]
        anchored = [r for r in group if r.text is not None and r.ann.status != "orphaned"]
        for record in group:
            if record not in anchored:
                note_guid = guid("orphan", record.ann.id)
                ann = record.ann
                body = (
                    f"Orphaned {ann.tag} (tag {ann.id}) from {doc_id} — the passage was not "
                    f"found in the current text. Quote: “{ann.exact}” (was at {ann.start}–"
                    f"{ann.end}). Note: {ann.note or '—'}"
                )
                notes.append((note_guid, f"Orphaned {ann.tag}", body, users[ann.author]))
                project_notes.append(note_guid)
        if first.text is None:
            continue
        source_guid = guid("source", doc_id)
        sources[f"sources/{source_guid}.txt"] = first.text
        source = _el(
            sources_el,
            "TextSource",
            guid=source_guid,
            name=first.title,
            plainTextPath=f"internal://{source_guid}.txt",
            creatingUser=me,
            creationDateTime=stamp,
        )
        _text(
            source,
            "Description",
            f"Document {doc_id} · language {first.lang} · date {first.date or 'unknown'}"
            f" · path {first.path}",
        )
        for record in anchored:
            ann = record.ann
            selected.add(ann.id)
            author = users[ann.author]
            selection = _el(
                source,
                "PlainTextSelection",
                guid=ann.id,
                name=" ".join(ann.exact.split())[:80],
                startPosition=str(ann.start),
                endPosition=str(ann.end),
                creatingUser=author,
                creationDateTime=ann.created,
                modifyingUser=author,
                modifiedDateTime=ann.updated,
            )
            _text(selection, "Description", f"{ann.tag} · status {ann.status} · tag {ann.id}")
            coding = _el(
                selection,
                "Coding",
                guid=guid("coding", ann.id),
                creatingUser=author,
                creationDateTime=ann.created,
            )
            _el(coding, "CodeRef", targetGUID=codes[ann.tag])
            if ann.note:
                note_guid = guid("note", ann.id)
                notes.append((note_guid, f"Note on {ann.tag}", ann.note, author))
                _el(selection, "NoteRef", targetGUID=note_guid)
            if record.translation:
                note_guid = guid("translation", ann.id, record.translation_lang)
                notes.append(
                    (
                        note_guid,
                        f"Translation ({record.translation_lang})",
                        record.translation,
                        None,
                    )
                )
                _el(selection, "NoteRef", targetGUID=note_guid)
        for name, value in (
            ("document id", doc_id),
            ("language", first.lang),
            ("date", first.date),
            ("path", first.path),
        ):
            if value:
                variable_value = _el(source, "VariableValue")
                _el(variable_value, "VariableRef", targetGUID=variables[name])
                _text(variable_value, "TextValue", value)
    for record in records:
        for target in record.ann.links:
            if record.ann.id in selected and target in selected:
                links.append((record.ann.id, target, record.ann.tag))

    if len(sources_el):
        root.append(sources_el)
    if notes:
        notes_el = _el(root, "Notes")
        for note_guid, name, body, author in notes:
            note = _el(
                notes_el,
                "Note",
                guid=note_guid,
                name=name,
                creatingUser=author,
                creationDateTime=stamp,
            )
            _text(note, "PlainTextContent", body)
    if links:
        tags = {r.ann.id: r.ann.tag for r in records}
        links_el = _el(root, "Links")
        for origin, target, tag in links:
            name = "rebuts" if tag == "rebuttal" and tags.get(target) == "claim" else "related"
            _el(
                links_el,
                "Link",
                guid=guid("link", origin, target),
                name=name,
                direction="OneWay",
                originGUID=origin,
                targetGUID=target,
            )
    _text(
        root,
        "Description",
        f"{len(records)} tags exported {stamp} from {ws.corpus_root} by source-reader.",
    )
    for note_guid in project_notes:
        _el(root, "NoteRef", targetGUID=note_guid)
    ET.register_namespace("", NS)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml, sources


def write_qdpx(records: list[Record], ws: Workspace, path: Path) -> None:
    """Write the .qdpx zip to `path`."""
    xml, sources = build_project(records, ws)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", xml)
        for name, text in sources.items():
            archive.writestr(name, text.encode("utf-8"))
