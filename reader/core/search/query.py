"""The query language, engine-neutral: checking, web-style operators, words to correct.

The syntax: words (AND by default), OR, AND, NOT, "a phrase", field:value, prefix*, fuzzy~,
ranges (`date:[2025-01-01 TO 2025-12-31]`), parentheses. On top of it, as users know from
web search:
- `-word` excludes and `+word` requires (also before a "phrase", a field or a group);
  a lone `-` or `+` stays literal (it is no word, so it matches nothing by itself);
- a hyphenated word (`Fake-Profil`, `COVID-19`) is searched as a phrase, not as two words;
- `date:2025` and `date:2025-11` mean every date in that year or month.

`rewrite` turns a query into the plain syntax (`tesla -musk` -> `tesla NOT musk`), which an
engine (`reader.core.search.whoosh.parse`) parses. `free_words` and `replace_words` serve the
"did you mean" retry of a query that finds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FILTER_FIELDS = ("lang", "date", "author", "tag", "label", "id", "title")
TEXT_FIELDS = ("title", "author", "body")  # fields whose values are words (phrases allowed)
OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
_FIELD_PREFIX = re.compile(r"(?<![\w\"])([A-Za-z_]\w*):")
_FIELD_AT = re.compile(r"([A-Za-z_]\w*):")
_WORD = re.compile(r"\w+")
_FIELD_BEFORE = re.compile(r"([A-Za-z_]\w*):$")
_YEAR_OR_MONTH = re.compile(r"\d{4}(?:-\d{2})?")
_HYPHENATED = re.compile(r"\w+(?:[-\u2010\u2011]\w+)+")  # also typographic hyphens
_CLOSING = {"[": "]", "{": "}"}


def syntax_error(query: str) -> str | None:
    """Why `query` is not valid query syntax, or None."""
    plain = re.sub(r'"[^"]*"', '""', query)
    if query.count('"') % 2:
        return 'unclosed quote: add the closing "'
    depth = 0
    for char in plain:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return "a ')' has no matching '('"
    if depth:
        return "unclosed '(': add the closing ')'"
    if plain.count("[") != plain.count("]") or plain.count("{") != plain.count("}"):
        return "unbalanced range brackets: write date:[2025-01-01 TO 2025-12-31]"
    for match in _FIELD_PREFIX.finditer(plain):
        name, rest = match.group(1), plain[match.end() :]
        if name.lower() not in FILTER_FIELDS and not name.startswith("body"):
            return f"unknown field {name!r}; fields: {', '.join(FILTER_FIELDS)}"
        if not rest or rest[0].isspace() or rest[0] == ")":
            return f"{name}: needs a value, e.g. {name}:word"
    return None


def plain_words(query: str) -> str:
    """The words of `query` without fields, operators or punctuation (the fallback search of
    a query with a syntax error)."""
    return " ".join(
        w for w in _WORD.findall(_FIELD_PREFIX.sub(" ", query)) if w not in ("AND", "OR", "NOT")
    )


# Web-style operators ------------------------------------------------------------------------
@dataclass
class _Item:
    """One element of a (sub)query: a term or a parenthesised group, with its mark."""

    mark: str  # "", "-" (excluded) or "+" (required)
    text: str  # in the plain syntax
    words: list[str]  # the free words it holds, for spelling suggestions
    operator: bool = False


def rewrite(query: str) -> str:
    """`query` in the plain syntax: `-x` -> `NOT x`, `+x` required even next to OR, a
    hyphenated word -> a phrase. A query with a syntax error comes back unchanged."""
    if syntax_error(query):
        return query
    out = _render(_items(query, 0)[0])
    return query if syntax_error(out) else out  # odd input (`a*title:(x)`) is left as it is


def free_words(query: str) -> list[str]:
    """The plain words that `query` looks for (not excluded, not under a field other than
    title, not a phrase, prefix, wildcard or fuzzy word), in order, each once."""
    if syntax_error(query):
        return list(dict.fromkeys(plain_words(query).split()))
    return list(dict.fromkeys(_free(_items(query, 0)[0])))


def replace_words(query: str, replacements: dict[str, str]) -> str:
    """`query` with each whole free word in `replacements` replaced."""
    if not replacements:
        return query
    pattern = re.compile(
        r"(?<![\w*?~-])(" + "|".join(map(re.escape, replacements)) + r")(?![\w:*?~-])"
    )
    out, last = [], 0
    for match in pattern.finditer(query):
        field = _FIELD_BEFORE.search(query, 0, match.start())
        if query.count('"', 0, match.start()) % 2 or (field and not _words_field(field[1])):
            continue  # inside a phrase, or the value of a filter
        out.append(query[last : match.start()])
        out.append(replacements[match.group()])
        last = match.end()
    out.append(query[last:])
    return "".join(out)


def _items(s: str, i: int) -> tuple[list[_Item], int]:
    """The items of `s` from `i` up to the closing `)` of this level (or the end)."""
    items: list[_Item] = []
    size = len(s)
    while i < size:
        char = s[i]
        if char.isspace():
            i += 1
            continue
        if char == ")":
            return items, i + 1
        mark = ""
        if char in "-+" and i + 1 < size and not s[i + 1].isspace() and s[i + 1] not in "-+)":
            mark, i = char, i + 1
        prefix = ""
        field = _FIELD_AT.match(s, i)
        if field and field.end() < size and s[field.end()] == "(":
            prefix, i = field.group(), field.end()
        if s[i] == "(":
            inner, i = _items(s, i + 1)
            words = [] if prefix and not _words_field(prefix[:-1]) else _free(inner)
            items.append(_Item(mark, f"{prefix}({_render(inner)})", words))
            continue
        start = i
        while i < size and not s[i].isspace() and s[i] not in "()":
            if s[i] == '"':
                end = s.find('"', i + 1)
                i = size if end == -1 else end + 1
            elif s[i] in _CLOSING:
                end = s.find(_CLOSING[s[i]], i + 1)
                i = i + 1 if end == -1 else end + 1  # an unmatched bracket is a character
            else:
                i += 1
        token = s[start:i]
        if not token:  # cannot happen (a mark needs a following character); never loop
            i += 1
            continue
        operator = not mark and token in OPERATORS
        items.append(_Item(mark, _phrased(token), _token_words(token), operator))
    return items, i


def _render(items: list[_Item]) -> str:
    """Items in the plain syntax: required and excluded items go around the rest."""
    plain = [it for it in items if not it.mark]
    required = [it for it in items if it.mark == "+"]
    excluded = [it for it in items if it.mark == "-"]
    if not required and not excluded:
        return " ".join(it.text for it in _joined(items))
    plain = _joined(plain)  # `a OR -b`: the OR has nothing to join
    parts = []
    if plain:
        rest = " ".join(it.text for it in plain)
        parts.append(f"({rest})" if len(plain) > 1 else rest)
    parts.extend(it.text for it in required)
    out = " AND ".join(parts)
    for it in excluded:
        out = f"{out} NOT {it.text}" if out else f"NOT {it.text}"
    return out


def _joined(items: list[_Item]) -> list[_Item]:
    """`items` without the operators that have nothing to join: at the end (`tesla AND`, as
    typed on the way to `tesla AND musk`), or at the start but NOT. An operator alone is
    left as it is (a word to look for)."""
    end = len(items)
    while end and items[end - 1].operator:
        end -= 1
    start = 0
    while start < end and items[start].operator and items[start].text != "NOT":
        start += 1
    return items[start:end] or items


def _phrased(token: str) -> str:
    """A hyphenated word (maybe after a text field) as a phrase; any other token as it is."""
    field, value = "", token
    found = _FIELD_AT.match(token)
    if found:
        field, value = found.group(), token[found.end() :]
        if found.group(1).lower() == "date" and _YEAR_OR_MONTH.fullmatch(value):
            return f"{field}{value}*"  # `date:2025`: every date in 2025
        if not _words_field(found.group(1)):
            return token
    if _HYPHENATED.fullmatch(value):
        return f'{field}"{value}"'
    return token


def _words_field(name: str) -> bool:
    return name.lower() in TEXT_FIELDS or name.startswith("body")


def _token_words(token: str) -> list[str]:
    """The free word a token is, if any: a plain word, maybe after `title:`."""
    found = _FIELD_AT.match(token)
    if found:
        if found.group(1).lower() not in ("title", "body"):
            return []
        token = token[found.end() :]
    return [token] if _WORD.fullmatch(token) and token not in OPERATORS else []


def _free(items: list[_Item]) -> list[str]:
    out: list[str] = []
    after_not = False
    for it in items:
        if it.mark != "-" and not after_not:
            out.extend(it.words)
        after_not = it.operator and it.text in ("NOT", "ANDNOT")
    return out
