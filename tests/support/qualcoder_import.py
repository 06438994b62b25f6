"""The rules by which QualCoder imports a REFI-QDA project, re-stated to test our .qdpx.

Re-stated (not copied) from QualCoder's `RefiImport.import_project` and the methods it calls
(ccbogel/QualCoder, src/qualcoder/refi.py), as read with the search tool:

- Users: guid -> name; an element's owner is its creatingUser (else modifyingUser) or
  "default".
- Codes: each codable Code becomes a code (name, color); CodeRef GUIDs resolve to it.
- Links: read into a list (QualCoder uses them only for NVivo's note files); not imported
  as links between codings.
- TextSource: the text is read from `sources/` (or `Sources/`) through plainTextPath
  `internal://NAME` as UTF-8; if the first line ends with CR LF (and the origin is not
  ATLAS.ti) every LF gains a following space. Its Description is the source memo.
- PlainTextSelection: seltext = fulltext[start:end]; its Description is the memo of each
  coding; each Coding/CodeRef gives one coded text (code, positions, owner, memo, date).
  A selection without a Coding becomes an annotation with the Description as memo.
- NoteRef directly under a TextSource: the referenced Note is an annotation of that source;
  its text is its PlainTextContent, its span the Note's own PlainTextSelection, its owner the
  modifyingUser (else creatingUser). A Note without both is dropped.
- Any other Note with a plainTextPath and a non-empty name becomes a journal whose text is
  that file's. Other Notes (no path) are dropped.
- Every Note needs creationDateTime or modifiedDateTime (QualCoder fails otherwise).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

NS = "{urn:QDA-XML:project:1.0}"


@dataclass
class Imported:
    codes: dict[str, dict] = field(default_factory=dict)  # guid -> {name, color}
    sources: dict[str, dict] = field(default_factory=dict)  # guid -> {name, fulltext, memo}
    coded: list[dict] = field(default_factory=list)  # code_text rows
    annotations: list[dict] = field(default_factory=list)
    journals: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)


def _owner(element: ET.Element, users: dict[str, str], *, modifier_first: bool = False) -> str:
    order = (
        ("modifyingUser", "creatingUser") if modifier_first else ("creatingUser", "modifyingUser")
    )
    for attribute in order:
        if element.get(attribute) in users:
            return users[element.get(attribute)]
    return "default"


def _date(element: ET.Element) -> str:
    value = element.get("creationDateTime") or element.get("modifiedDateTime")
    if value is None:
        raise ValueError(f"{element.tag} has no date: QualCoder's import fails here")
    return value.replace("T", " ").replace("Z", "")


def import_qdpx(data: bytes) -> Imported:
    result = Imported()
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    folder = "sources/" if any(n.startswith("sources/") for n in names) else "Sources/"
    qde = next(n for n in names if n.endswith(".qde"))
    root = ET.fromstring(archive.read(qde))
    origin = root.get("origin") or ""
    users = {u.get("guid"): u.get("name") for u in root.iterfind(f"{NS}Users/{NS}User")}

    def codes(parent: ET.Element) -> None:
        for code in parent.findall(f"{NS}Code"):
            if code.get("isCodable") != "false":
                result.codes[code.get("guid")] = {
                    "name": code.get("name"),
                    "color": code.get("color"),
                }
            codes(code)

    for codes_el in root.iterfind(f"{NS}CodeBook/{NS}Codes"):
        codes(codes_el)
    for link in root.iterfind(f"{NS}Links/{NS}Link"):
        result.links.append(
            {
                "guid": link.get("guid"),
                "origin": link.get("originGUID"),
                "target": link.get("targetGUID"),
            }
        )
    source_notes: dict[str, str] = {}  # note guid -> source guid
    for source in root.iterfind(f"{NS}Sources/{NS}TextSource"):
        path = source.get("plainTextPath").split("internal:/")[1].lstrip("/")
        raw = archive.read(folder + path)
        text = raw.decode("utf-8", errors="replace")
        first_line = raw.split(b"\n", 1)[0]
        if first_line.endswith(b"\r") and "ATLAS" not in origin:
            text = text.replace("\n", "\n ")
        memo = source.findtext(f"{NS}Description") or ""
        guid = source.get("guid")
        result.sources[guid] = {"name": source.get("name"), "fulltext": text, "memo": memo}
        for selection in source.findall(f"{NS}PlainTextSelection"):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            memo = selection.findtext(f"{NS}Description") or ""
            owner = _owner(selection, users)
            date = selection.get("creationDateTime") or selection.get("modifiedDateTime") or ""
            codings = selection.findall(f"{NS}Coding")
            for coding in codings:
                ref = next(iter(coding)).get("targetGUID")
                result.coded.append(
                    {
                        "code": result.codes.get(ref, {}).get("name"),
                        "source": guid,
                        "seltext": text[start:end],
                        "pos0": start,
                        "pos1": end,
                        "owner": owner,
                        "memo": memo,
                        "date": date.replace("T", " ").replace("Z", ""),
                    }
                )
            if not codings:
                result.annotations.append(
                    {"source": guid, "pos0": start, "pos1": end, "memo": memo, "owner": owner}
                )
        for ref in source.findall(f"{NS}NoteRef"):
            source_notes[ref.get("targetGUID")] = guid
    for note in root.iterfind(f"{NS}Notes/{NS}Note"):
        date = _date(note)
        guid = note.get("guid")
        if guid in source_notes:
            memo = note.findtext(f"{NS}PlainTextContent")
            span = note.find(f"{NS}PlainTextSelection")
            if memo is None or span is None:
                continue
            result.annotations.append(
                {
                    "source": source_notes[guid],
                    "pos0": int(span.get("startPosition")),
                    "pos1": int(span.get("endPosition")),
                    "memo": memo,
                    "owner": _owner(note, users, modifier_first=True),
                }
            )
        elif note.get("plainTextPath") and note.get("name"):
            path = note.get("plainTextPath").split("internal:/")[1].lstrip("/")
            result.journals.append(
                {
                    "name": note.get("name"),
                    "jentry": archive.read(folder + path).decode("utf-8"),
                    "owner": _owner(note, users),
                    "date": date,
                }
            )
    return result
