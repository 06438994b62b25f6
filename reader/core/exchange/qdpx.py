"""REFI-QDA project export (.qdpx): a zip of `project.qde` (QDA-XML 1.0) and `sources/`.

- Codes claim, rebuttal, context, coloured like the app's tags (the default theme's error,
  success and secondary colours).
- Each tag in a current document is a PlainTextSelection (its GUID is the tag's id) with a
  Coding. Its Description holds the note, then one line per link ("Rebuts claim <id>:
  “quote”"), then the kind, status and id: QDA tools that read the Description (QualCoder
  makes it the coding memo) keep all of it.
- A note is also a REFI-QDA Note (PlainTextContent plus a PlainTextSelection of the span),
  referenced from the selection and from its TextSource: tools that read notes under the
  source (QualCoder's annotations) or from the selection keep it.
- Links between tags are `<Link>`s (a rebuttal's link to a claim is named "rebuts").
- An orphaned tag (its passage is gone) is a project-level Note with a text file in
  `sources/`, named "Orphaned <kind>", that carries its old quote, offsets, note and links.
- Cached translations are Notes referenced from the selection.
- Every text field has the characters XML 1.0 forbids removed (a form feed pasted from a
  PDF, say), and project.qde is validated against the REFI-QDA schema (Project-mrt2019.xsd)
  before the export counts as written.
- Positions are code points into the source text, as QualCoder and the standard count them.
  Source files are UTF-8 without a byte order mark, LF line ends.
"""

from __future__ import annotations

import io
import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reader.core.errors import ReaderError
from reader.core.exchange.formats import ExportContext, Format
from reader.core.exchange.records import GENERATOR, tag_kinds
from reader.core.tags.model import CLAIM, DEFAULT_VERDICT, KINDS, REBUTTAL

if TYPE_CHECKING:
    from reader.core.exchange.records import Record

NS = "urn:QDA-XML:project:1.0"
ORIGIN = "source-reader"
XSD = Path(__file__).with_name("Project-mrt2019.xsd")
_GUIDS = uuid.UUID("6f1c1f6e-2f4e-4d7e-9a37-5d1f0c7e9b21")  # namespace for derived GUIDs
# The app's tag colours: textual-dark's $error, $success and $secondary (tests check them).
CODE_COLORS = {kind.name: kind.colour for kind in KINDS}
CODE_DESCRIPTIONS = {kind.name: kind.description for kind in KINDS}
VARIABLES = ("document id", "language", "date", "path", "url", "site", "sha256")
# Characters outside XML 1.0's Char production: C0 controls but tab/LF/CR, surrogates,
# U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry (CR becomes LF, as XML reads it)."""
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def guid(*parts: str) -> str:
    """A stable GUID derived from `parts`."""
    return str(uuid.uuid5(_GUIDS, "\x1f".join(parts)))


def _el(parent: ET.Element, element: str, /, **attrs: str | None) -> ET.Element:
    clean = {k: xml_text(v) for k, v in attrs.items() if v is not None}
    return ET.SubElement(parent, f"{{{NS}}}{element}", clean)


def _text(parent: ET.Element, name: str, text: str) -> ET.Element:
    element = _el(parent, name)
    element.text = xml_text(text)
    return element


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def link_line(origin: Any, target: Any | None, target_id: str) -> str:
    """The link as a line of text: `Rebuts claim <id>: “quote”`."""
    verb = "Rebuts" if origin.tag == REBUTTAL else "Links to"
    if target is None:
        return f"{verb} tag {target_id}"
    return f"{verb} {target.tag} {target_id}: “{_short(target.exact, 120)}”"


def selection_description(ann: Any, by_id: dict[str, Any]) -> str:
    parts = []
    if ann.note.strip():
        parts.append(ann.note.strip())
    parts += [link_line(ann, by_id.get(target), target) for target in ann.links]
    meta = f"{ann.tag} · status {ann.status} · tag {ann.id}"
    verdict = getattr(ann, "verdict", None)
    if verdict and verdict != DEFAULT_VERDICT:
        meta += f" · verdict {verdict}"
    labels = getattr(ann, "labels", None) or ()
    if labels:
        meta += " · labels " + ", ".join(labels)
    parts.append(meta)
    return "\n\n".join(parts)


def orphan_text(record: Record, by_id: dict[str, Any]) -> str:
    ann = record.ann
    lines = [
        f"Orphaned {ann.tag} (tag {ann.id}) from {record.doc_id}: the passage was not found "
        "in the current text.",
        f"Quote: “{ann.exact}”",
        f"Was at {ann.start}–{ann.end}, by {ann.author}, created {ann.created}.",
    ]
    if ann.note.strip():
        lines.append(f"Note: {ann.note.strip()}")
    lines += [link_line(ann, by_id.get(target), target) for target in ann.links]
    return "\n".join(lines)


class _Notes:
    """The project's Notes and the files some of them point to."""

    def __init__(self) -> None:
        self.element = ET.Element(f"{{{NS}}}Notes")
        self.files: dict[str, str] = {}

    def add(
        self,
        note_guid: str,
        name: str,
        body: str,
        *,
        user: str | None,
        created: str,
        modified: str | None = None,
        span: tuple[int, int] | None = None,
        as_file: bool = False,
    ) -> None:
        note = _el(
            self.element,
            "Note",
            guid=note_guid,
            name=name,
            plainTextPath=f"internal://{note_guid}.txt" if as_file else None,
            creatingUser=user,
            creationDateTime=created,
            modifyingUser=user,
            modifiedDateTime=modified or created,
        )
        if as_file:  # the standard: PlainTextContent or plainTextPath, not both
            _text(note, "Description", _short(body, 200))
            self.files[f"sources/{note_guid}.txt"] = xml_text(body)
        else:
            _text(note, "PlainTextContent", body)
        if span is not None:
            _el(
                note,
                "PlainTextSelection",
                guid=guid("note-span", note_guid),
                startPosition=str(span[0]),
                endPosition=str(span[1]),
            )


def build_project(records: list[Record], ctx: ExportContext) -> tuple[bytes, dict[str, str]]:
    """The project.qde bytes and the files of `sources/` {zip name: text}."""
    ws = ctx.ws
    stamp = ctx.exported
    users = {r.ann.author: guid("user", r.ann.author) for r in records}
    me = users.setdefault(ws.author, guid("user", ws.author))
    kinds = tag_kinds()
    codes = {kind: guid("code", kind) for kind in kinds}
    variables = {name: guid("variable", name) for name in VARIABLES}
    by_id = {r.ann.id: r.ann for r in records}

    root = ET.Element(
        f"{{{NS}}}Project",
        {
            "name": xml_text(f"Tags from {ws.corpus_root.name}"),
            "origin": ORIGIN,
            "creatingUserGUID": me,
            "creationDateTime": stamp,
        },
    )
    users_el = _el(root, "Users")
    for name, user_guid in sorted(users.items()):
        _el(users_el, "User", guid=user_guid, name=name)
    codebook = _el(_el(root, "CodeBook"), "Codes")
    for kind in kinds:
        code = _el(codebook, "Code", guid=codes[kind], name=kind, isCodable="true")
        code.set("color", CODE_COLORS.get(kind, "#808080"))
        _text(code, "Description", CODE_DESCRIPTIONS.get(kind, kind))
    variables_el = _el(root, "Variables")
    for name in VARIABLES:
        _el(variables_el, "Variable", guid=variables[name], name=name, typeOfVariable="Text")

    sources: dict[str, str] = {}
    notes = _Notes()
    project_notes: list[str] = []
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
                ann = record.ann
                note_guid = guid("orphan", ann.id)
                notes.add(
                    note_guid,
                    f"Orphaned {ann.tag}",
                    orphan_text(record, by_id),
                    user=users[ann.author],
                    created=ann.created,
                    modified=ann.updated,
                    as_file=True,
                )
                project_notes.append(note_guid)
        if first.text is None or not anchored:
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
        about = [f"Document {doc_id}", f"language {first.lang}", f"date {first.date or '?'}"]
        if first.site:
            about.append(f"site {first.site}")
        if first.url:
            about.append(first.url)
        about.append(f"path {first.path}")
        _text(source, "Description", " · ".join(about))
        source_notes: list[str] = []
        for record in anchored:
            ann = record.ann
            selected.add(ann.id)
            author = users[ann.author]
            selection = _el(
                source,
                "PlainTextSelection",
                guid=ann.id,
                name=_short(ann.exact),
                startPosition=str(ann.start),
                endPosition=str(ann.end),
                creatingUser=author,
                creationDateTime=ann.created,
                modifyingUser=author,
                modifiedDateTime=ann.updated,
            )
            _text(selection, "Description", selection_description(ann, by_id))
            coding = _el(
                selection,
                "Coding",
                guid=guid("coding", ann.id),
                creatingUser=author,
                creationDateTime=ann.created,
            )
            _el(coding, "CodeRef", targetGUID=codes[ann.tag])
            if ann.note.strip():
                note_guid = guid("note", ann.id)
                notes.add(
                    note_guid,
                    f"Note on {ann.tag}",
                    ann.note,
                    user=author,
                    created=ann.created,
                    modified=ann.updated,
                    span=(ann.start, ann.end),
                )
                _el(selection, "NoteRef", targetGUID=note_guid)
                source_notes.append(note_guid)
            if record.translation:
                note_guid = guid("translation", ann.id, record.translation_lang)
                notes.add(
                    note_guid,
                    f"Translation ({record.translation_lang})",
                    record.translation,
                    user=None,
                    created=stamp,
                )
                _el(selection, "NoteRef", targetGUID=note_guid)
        for note_guid in source_notes:
            _el(source, "NoteRef", targetGUID=note_guid)
        for name, value in (
            ("document id", doc_id),
            ("language", first.lang),
            ("date", first.date),
            ("path", first.path),
            ("url", first.url),
            ("site", first.site),
            ("sha256", first.doc_sha256),
        ):
            if value:
                variable_value = _el(source, "VariableValue")
                _el(variable_value, "VariableRef", targetGUID=variables[name])
                _text(variable_value, "TextValue", value)

    if len(sources_el):
        root.append(sources_el)
    if len(notes.element):
        root.append(notes.element)
    links = [
        (r.ann, target)
        for r in records
        for target in r.ann.links
        if r.ann.id in selected and target in selected
    ]
    if links:
        links_el = _el(root, "Links")
        for origin, target in links:
            rebuts = origin.tag == REBUTTAL and by_id[target].tag == CLAIM
            _el(
                links_el,
                "Link",
                guid=guid("link", origin.id, target),
                name="rebuts" if rebuts else "related",
                direction="OneWay",
                originGUID=origin.id,
                targetGUID=target,
            )
    _text(
        root,
        "Description",
        f"{len(records)} tags exported {stamp} from {ws.corpus_root} by {GENERATOR}.",
    )
    for note_guid in project_notes:
        _el(root, "NoteRef", targetGUID=note_guid)
    ET.register_namespace("", NS)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    sources.update(notes.files)
    return xml, sources


@cache
def _schema() -> Any:
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(XSD)))


def validate(xml: bytes) -> None:
    """ReaderError unless `xml` is a valid REFI-QDA project (Project-mrt2019.xsd)."""
    from lxml import etree

    schema = _schema()
    try:
        valid = schema.validate(etree.fromstring(xml, etree.XMLParser(resolve_entities=False)))
    except etree.XMLSyntaxError as exc:
        reason = f"not well-formed XML ({exc})"
        raise ReaderError(f"the qdpx export is {reason}, nothing written") from exc
    if not valid:
        error = schema.error_log.last_error
        reason = f"line {error.line}: {error.message}" if error else "schema violation"
        raise ReaderError(f"the qdpx export is not valid REFI-QDA, nothing written: {reason}")


def render_qdpx(records: list[Record], ctx: ExportContext) -> bytes:
    """The .qdpx zip, validated, as bytes."""
    xml, sources = build_project(records, ctx)
    validate(xml)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", xml)
        for name, text in sources.items():
            archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


FORMATS = [Format("qdpx", ".qdpx", "REFI-QDA project (QualCoder, ATLAS.ti, ...)", render_qdpx,
                  binary=True)]  # fmt: skip
