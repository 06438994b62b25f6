"""The hostile-file folder: files that once hung, crashed or garbled ingestion, and what each
must give.

    python tests/hostile/hostile_files.py      # rewrite tests/hostile/files/ and manifest.json

Most files are committed under `files/`. What git cannot hold or should not (named pipes,
sockets, symlinks out of the corpus, a 1 MB page nested 100,000 deep, names with control
characters) is made at test time by `materialise()`; the manifest lists those too, marked
`"made": true`. Each entry's expectation:

- `"skipped": "text"`: the file is skipped, its reason contains the text;
- `"document": {...}`: it is read; optional `lang`, `title`, `contains` (list), `absent`
  (list: strings that must not be in the clean text), `date`, `author`.
"""

from __future__ import annotations

import json
import os
import random
import socket
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
MANIFEST = HERE / "manifest.json"

GERMAN = (
    "Die Mäscot-Gruppe übernimmt das Geschäft in Köln. Der Vertrag gilt für fünf Jahre, "
    "teilte das Unternehmen am Montag mit. Die Beschäftigten sollen übernommen werden."
)
ENGLISH = (
    "The council met on Monday to discuss the budget for the coming year. After a long "
    "debate it agreed to raise spending on schools and on the roads, and to cut the cost "
    "of the town's bus tickets for pupils."
)
RUSSIAN = (
    "Москва - столица России. Президент заявил журналистам, что переговоры продолжатся на "
    "следующей неделе, несмотря на разногласия между сторонами."
)
FRENCH = (
    "Le conseil municipal s'est réuni lundi pour discuter du budget de l'année prochaine. "
    "Après un long débat, il a décidé d'augmenter les dépenses pour les écoles."
)
JAPANESE = "政府は月曜日、来年度の予算案を発表した。教育と道路への支出を増やす方針だ。"
CHINESE = "市议会星期一开会讨论明年的预算。经过长时间的辩论，议会同意增加学校和道路的开支。"


def _html(body: str, head: str = "", lang: str = "") -> str:
    attr = f' lang="{lang}"' if lang else ""
    return (
        f"<!doctype html><html{attr}><head><title>Page</title>{head}</head>"
        f"<body><article>{body}</article></body></html>"
    )


def _paragraphs(text: str, n: int = 2) -> str:
    return "".join(f"<p>{text}</p>" for _ in range(n))


def _laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    lines.append("title: *i")
    return "---\n" + "\n".join(lines) + "\n---\n# Laughing matters\n\n" + ENGLISH + "\n"


def committed() -> list[tuple[str, bytes, dict]]:
    """(name, bytes, expectation) of the committed files."""
    rng = random.Random(10)
    en = ENGLISH.encode()
    de = GERMAN.encode()
    doc = {"document": {}}
    out: list[tuple[str, bytes, dict]] = []

    def add(name: str, data: bytes | str, expect: dict) -> None:
        out.append((name, data.encode() if isinstance(data, str) else data, expect))

    # Decoding -------------------------------------------------------------------------
    add(
        "utf8-one-bad-byte.txt",
        de[: de.index(b"Der")] + b"\xff" + de[de.index(b"Der") :],
        {"document": {"lang": "de", "contains": ["Mäscot", "Geschäft"]}},
    )
    add(
        "utf8-four-bad-bytes.html",
        _html(_paragraphs(GERMAN)).encode()[:200] + b"\x80\x81\xfe\xff"
        + _html(_paragraphs(GERMAN)).encode()[200:],
        {"document": {"lang": "de", "contains": ["Mäscot", "Köln", "Beschäftigten"]}},
    )  # fmt: skip
    add(
        "nul-in-valid-html.html",
        _html(_paragraphs(ENGLISH)).replace("</p>", "\x00</p>", 1),
        {"document": {"lang": "en", "absent": ["\x00"]}},
    )
    add("stray-nuls.txt", en[:30] + b"\x00" + en[30:60] + b"\x00" + en[60:], {"document": {}})
    add("png-named-txt.txt", b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(300)),
        {"skipped": "binary: PNG image"})  # fmt: skip
    add("pdf-named-md.md", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        {"skipped": "binary: PDF document"})  # fmt: skip
    add("zip-named-html.html", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + zlib.compress(en),
        {"skipped": "binary: ZIP archive"})  # fmt: skip
    add("gzip.txt", b"\x1f\x8b\x08\x00" + zlib.compress(en), {"skipped": "binary: gzip"})
    add("elf.txt", b"\x7fELF\x02\x01\x01" + bytes(60), {"skipped": "binary: ELF"})
    add("sqlite.txt", b"SQLite format 3\x00" + bytes(100), {"skipped": "binary: SQLite"})
    add("jpeg.md", b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(50), {"skipped": "binary: JPEG"})
    add(
        "random-bytes-no-nul.txt",
        bytes(rng.randrange(1, 256) for _ in range(4000)),
        {"skipped": "binary: many control bytes"},
    )
    add(
        "random-bytes.txt",
        bytes(rng.randrange(256) for _ in range(4000)),
        {"skipped": "binary: many control bytes"},  # NULs are only 1 in 256 here
    )
    add("utf16le-no-bom.txt", ENGLISH.encode("utf-16-le"), {"document": {"lang": "en"}})
    add("utf16be-no-bom.txt", GERMAN.encode("utf-16-be"), {"document": {"lang": "de"}})
    add("utf16-bom.txt", ENGLISH.encode("utf-16"), {"document": {"lang": "en"}})
    add("utf32le-no-bom.txt", FRENCH.encode("utf-32-le"), {"document": {"lang": "fr"}})
    add(
        "utf16le-russian-no-bom.txt",
        RUSSIAN.encode("utf-16-le"),
        {"document": {"lang": "ru", "contains": ["Москва"]}},
    )
    add(
        "utf16be-chinese-no-bom.txt",
        (CHINESE + "\n\n" + CHINESE).encode("utf-16-be"),
        {"document": {"lang": "zh", "contains": ["预算"]}},
    )
    add(
        "koi8-r.txt",
        (RUSSIAN + "\n\n" + RUSSIAN).encode("koi8-r"),
        {"document": {"lang": "ru", "contains": ["Москва - столица России."]}},
    )
    add(
        "cp1251.txt",
        (RUSSIAN + "\n\n" + RUSSIAN).encode("cp1251"),
        {"document": {"lang": "ru", "contains": ["Президент заявил"]}},
    )
    add(
        "meta-charset-koi8-r.html",
        _html(_paragraphs(RUSSIAN), '<meta charset="koi8-r">').encode("koi8-r"),
        {"document": {"lang": "ru", "contains": ["Москва"]}},
    )
    add(
        "xml-declaration-cp1251.html",
        ('<?xml version="1.0" encoding="windows-1251"?>\n' + _html(_paragraphs(RUSSIAN))).encode(
            "cp1251"
        ),
        {"document": {"lang": "ru", "contains": ["разногласия"]}},
    )
    add(
        "meta-latin1-is-cp1252.html",
        _html(
            _paragraphs("„Grüße“ – " + GERMAN),
            '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">',
        ).encode("cp1252"),
        {"document": {"lang": "de", "contains": ["„Grüße“ – Die"]}},
    )
    for charset in ("base64", "rot13", "idna", "utf-7", "undefined"):  # crashed the scan
        add(
            f"meta-charset-{charset}.html",
            _html(_paragraphs("Café +ADw-script+AD4- " + ENGLISH), f'<meta charset="{charset}">'),
            {"document": {"lang": "en", "contains": ["Café +ADw-script+AD4-"]}},
        )
    add(
        "meta-latin1-but-utf8.html",
        _html(_paragraphs(GERMAN), '<meta charset="iso-8859-1">'),
        {"document": {"lang": "de", "contains": ["Mäscot"], "absent": ["MÃ"]}},
    )
    add(
        "c1-quotes.txt",
        "\u0084Das ist gut\u0093, sagte er. " + GERMAN,
        {"document": {"lang": "de", "contains": ["„Das ist gut“"]}},
    )
    add(
        "mojibake.txt",
        GERMAN.encode().decode("cp1252", "replace").replace("\ufffd", ""),
        {"document": {"lang": "de", "contains": ["Geschäft in Köln"], "absent": ["Ã"]}},
    )
    add(
        "cp1252-quotes.txt",
        ("“Quoted,” she said. " + ENGLISH).encode("cp1252"),
        {"document": {"lang": "en", "contains": ["“Quoted,”"]}},
    )
    add(
        "shift-jis.txt",
        (JAPANESE * 4).encode("shift_jis"),
        {"document": {"lang": "ja", "contains": ["予算案"]}},
    )
    add(
        "gb18030.txt",
        (CHINESE * 4).encode("gb18030"),
        {"document": {"lang": "zh", "contains": ["预算"]}},
    )
    add("empty.txt", b"", {"skipped": "empty"})
    add("whitespace-only.md", b" \n\t\n   \r\n", {"skipped": "empty"})
    add("bom-only.txt", b"\xef\xbb\xbf", {"skipped": "empty"})
    add("nuls-only.txt", bytes(64), {"skipped": "binary"})

    # Terminal escapes and odd characters --------------------------------------------------
    add(
        "ansi-escapes.txt",
        "\x1b[31mRED ALERT\x1b[0m\n\n" + ENGLISH + "\x1b[2J\x1b[H",
        {"document": {"title": "RED ALERT", "absent": ["\x1b", "[31m", "[2J"]}},
    )
    add(
        "osc-sequences.txt",
        "\x1b]0;pwned title\x07\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\\n\n" + ENGLISH,
        {"document": {"absent": ["\x1b", "pwned", "evil.example"]}},
    )
    add(
        "c1-csi.txt",
        "Headline\u009b2J\n\n" + ENGLISH + "\u009d0;title\u009c",
        {"document": {"absent": ["\u009b", "\u009d", "\u009c"]}},
    )
    add(
        "control-chars.txt",
        "\n\n".join(chr(c) + ENGLISH for c in range(1, 32) if c not in (9, 10, 13)),
        {"document": {"lang": "en", "absent": ["\x07", "\x08", "\x0b", "\x1b", "\x7f"]}},
    )
    add(
        "bidi-controls.txt",
        "Title \u202etxt.exe\u202c here\n\n" + ENGLISH,
        {"document": {"lang": "en"}},
    )
    add("zero-width-flood.txt", "\u200b" * 20000 + ENGLISH, {"document": {"lang": "en"}})
    add(
        "one-long-line.txt",
        " ".join([ENGLISH] * 600),  # about 130 KB on one line
        {"document": {"lang": "en"}},
    )
    add("many-short-lines.txt", "\n".join(["word"] * 40000), {"document": {}})
    add("crlf-and-cr.txt", (ENGLISH + "\r\n\r\n" + ENGLISH + "\r\r" + ENGLISH), {"document": {}})
    add("no-letters.txt", "12 345 678 — 90 / 12\n", {"document": {"lang": "und"}})

    # Front matter -------------------------------------------------------------------------
    add("billion-laughs.md", _laughs(), {"document": {"title": "Laughing matters"}})
    add(
        "yaml-alias.md",
        "---\nname: &n Real Title\ntitle: *n\nlang: en\n---\n# Heading\n\n" + ENGLISH,
        {"document": {"title": "Heading"}},
    )
    add(
        "yaml-merge-key.md",
        "---\nbase: &b {title: X}\n<<: *b\n---\n# Merged\n\n" + ENGLISH,
        {"document": {"title": "Merged"}},
    )
    add(
        "yaml-python-tag.md",
        "---\ntitle: !!python/object/apply:os.system ['echo pwned > /tmp/pwned']\n---\n"
        "# Not run\n\n" + ENGLISH,
        {"document": {"title": "Not run"}},
    )
    add(
        "yaml-deep-nesting.md",
        "---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\n# Deep\n\n" + ENGLISH,
        {"document": {"title": "Deep"}},
    )
    add(
        "yaml-binary-tag.md",
        "---\ntitle: !!binary aGVsbG8=\n---\n# Plain\n\n" + ENGLISH,
        {"document": {"title": "Plain"}},
    )
    add(
        "front-matter-list-title.md",
        "---\ntitle: [a, b]\nauthor: {name: x}\ndate: [2024-01-01]\n---\n# Listed\n\n" + ENGLISH,
        {"document": {"title": "Listed", "author": None, "date": None}},
    )
    add(
        "front-matter-scalars.md",
        "---\ntitle: 'Quoted: title'\ndate: 2024-02-03\nauthor: Ana Ruiz\nlang: fr\n"
        "tags: [x, y]\n---\n" + ENGLISH,
        {
            "document": {
                "title": "Quoted: title",
                "date": "2024-02-03",
                "author": "Ana Ruiz",
                "lang": "fr",
            }
        },
    )
    add(
        "front-matter-anchor-without-alias.md",
        "---\ntitle: &t Anchored\n---\n" + ENGLISH,
        {"document": {"title": "Anchored"}},
    )
    add(
        "front-matter-unclosed.md",
        "---\ntitle: never closed\n\n" + ENGLISH,
        {"document": {"contains": ["title: never closed"]}},
    )
    add(
        "front-matter-over-64kb.md",
        "---\ntitle: Too big\nfiller: " + "x" * 70000 + "\n---\n# Small heading\n\n" + ENGLISH,
        {"document": {"title": "Small heading", "absent": ["xxxxxxxx"]}},
    )
    add(
        "front-matter-not-a-mapping.md",
        "---\n- one\n- two\n---\n# Listed only\n\n" + ENGLISH,
        {"document": {"title": "Listed only"}},
    )
    add(
        "front-matter-bad-date.md",
        "---\ndate: 2024-13-45\ntitle: Bad date\n---\n" + ENGLISH,
        {"document": {"title": "Bad date", "date": None}},
    )
    add(
        "front-matter-invalid-yaml.md",
        "---\ntitle: [unclosed\n  : : :\n---\n# Broken yaml\n\n" + ENGLISH,
        {"document": {"title": "Broken yaml"}},
    )

    # HTML ---------------------------------------------------------------------------------
    deep = "<div>" * 300 + "<p>" + ENGLISH + "</p>" + "</div>" * 300
    add("nested-300.html", _html(deep), {"skipped": "HTML nested too deep"})
    ok = "<div>" * 100 + _paragraphs(ENGLISH) + "</div>" * 100
    add("nested-100.html", _html(ok), {"document": {"lang": "en"}})
    add(
        "unclosed-paragraphs.html",
        _html("<p>" + ENGLISH * 1 + "<p>" * 2000 + ENGLISH),
        {"document": {"lang": "en"}},
    )
    script = "<script>" + "for(i=0;i<n;i++){if(a<b&&c<d){x()}}" * 500 + "</script>"
    add("script-with-comparisons.html", _html(_paragraphs(ENGLISH, 3), script), {"document": {}})
    add(
        "no-main-text.html",
        "<html><head><title>x</title></head><body><script>var a = 1;</script></body></html>",
        {"skipped": "no main text"},
    )
    add(
        "declared-en-but-german.html",
        _html(_paragraphs(GERMAN, 3), lang="en"),
        {"document": {"lang": "de"}},
    )
    add(
        "declared-fi-short-text.html",
        _html("<p>Hyvää huomenta, Helsinki.</p>", lang="fi"),
        {"document": {"lang": "fi"}},
    )
    add("unclosed-comment.html", _html(_paragraphs(ENGLISH)) + "<!-- " + "x" * 5000, doc)
    add(
        "huge-attribute.html",
        _html(f'<p title="{"a" * 300000}">' + ENGLISH + "</p>" + _paragraphs(ENGLISH)),
        {"document": {"lang": "en"}},
    )
    add("tag-flood.html", "<a" * 50000 + _html(_paragraphs(ENGLISH)), {"document": {}})
    add(
        "entity-flood.html",
        _html("<p>" + "&amp;" * 20000 + "</p>" + _paragraphs(ENGLISH)),
        {"document": {}},
    )
    add(
        "svg-title-before-text.html",  # made htmldate assert (a crash of every scan)
        "<svg><title>x</title><p>" + ENGLISH + "</p>",
        {"document": {"lang": "en"}},
    )
    add(
        "math-html.html",  # found by fuzzing: htmldate asserted on it
        b"<math><html><hea\rd><t---\nitle>x</title></head><bod"
        b"y><scr\xef\xbb\xbfipt>v a = 1;</script></body><",
        {"document": {}},
    )
    add("xml-bomb.html", (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "&lol;" * 10}">'
                  for i in range(10))
        + "]>" + _html("<p>&lol9;</p>" + _paragraphs(ENGLISH))
    ), {"document": {"absent": ["lollollollollol"]}})  # fmt: skip
    return out


# What git cannot hold, made at test time ------------------------------------------------------
MADE = [
    ("named-pipe.txt", {"skipped": "not a regular file: a named pipe (FIFO)"}),
    ("socket.txt", {"skipped": "not a regular file: a socket"}),
    ("dev-zero.txt", {"skipped": "outside the corpus"}),
    ("link-outside.txt", {"skipped": "outside the corpus"}),
    ("link-inside.txt", {"document": {"lang": "en"}}),
    ("link-loop.txt", {"skipped": "unreadable: symlink loop"}),
    ("link-broken.txt", {"skipped": "broken symlink"}),
    ("link-to-corpus-folder", {"skipped": "symlink to a folder inside the corpus"}),
    ("link-to-outside-folder", {"skipped": "outside the corpus"}),
    ("nested-100000.html", {"skipped": "HTML nested too deep"}),
    ("too-large.txt", {"skipped": "too large"}),
    ("name-with-\x1b[31m-escape.txt", {"document": {"lang": "en"}}),
    ("name-with-\u202egnp.txt", {"document": {"lang": "en"}}),
    ("image.png", {"skipped": "unsupported file type .png"}),
    ("no-extension", {"skipped": "unsupported file type (none)"}),
]
MAX_BYTES = 2 * 1024 * 1024  # the test's max_file_bytes


COMMIT_LIMIT = 16 * 1024  # larger files are made at test time, to keep the repository small


def materialise(dest: Path, outside: Path) -> None:
    """Copy the committed files to `dest` and make the others; `outside` is a folder that is
    not part of the corpus (the target of the outward symlinks)."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in FILES.iterdir():
        (dest / path.name).write_bytes(path.read_bytes())
    for name, data, _ in committed():
        if len(data) > COMMIT_LIMIT:
            (dest / name).write_bytes(data)
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_text("A private file outside the corpus. " * 5)
    os.mkfifo(dest / "named-pipe.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(dest / "socket.txt"))
    server.close()  # the socket file stays
    os.symlink("/dev/zero", dest / "dev-zero.txt")
    os.symlink(outside / "secret.txt", dest / "link-outside.txt")
    os.symlink("stray-nuls.txt", dest / "link-inside.txt")
    os.symlink("link-loop.txt", dest / "link-loop.txt")
    os.symlink("nowhere.txt", dest / "link-broken.txt")
    os.symlink(".", dest / "link-to-corpus-folder")
    os.symlink(outside, dest / "link-to-outside-folder")
    deep = "<div>" * 100_000 + "<p>" + ENGLISH + "</p>" + "</div>" * 100_000
    (dest / "nested-100000.html").write_text(_html(deep))
    (dest / "too-large.txt").write_bytes(ENGLISH.encode() * (MAX_BYTES // len(ENGLISH) + 10))
    (dest / "name-with-\x1b[31m-escape.txt").write_text(ENGLISH)
    (dest / "name-with-\u202egnp.txt").write_text(ENGLISH)
    (dest / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (dest / "no-extension").write_text(ENGLISH)


def write() -> None:
    FILES.mkdir(parents=True, exist_ok=True)
    for old in FILES.iterdir():
        old.unlink()
    manifest = {}
    for name, data, expect in committed():
        if len(data) > COMMIT_LIMIT:
            manifest[name] = {**expect, "made": True}
        else:
            (FILES / name).write_bytes(data)
            manifest[name] = expect
    for name, expect in MADE:
        manifest[name] = {**expect, "made": True}
    MANIFEST.write_text(json.dumps(manifest, indent=1, ensure_ascii=True) + "\n")
    made = sum(1 for e in manifest.values() if e.get("made"))
    print(f"{len(manifest)} hostile files ({made} made at test time)")


if __name__ == "__main__":
    write()
