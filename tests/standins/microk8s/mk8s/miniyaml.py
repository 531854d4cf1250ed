"""A small YAML reader for the launch configuration subset, stdlib only.

Supports what launch configurations and kubeconfigs use: block mappings and sequences
(including `- key: v` items), flow sequences `[a, b]`, the empty flow mapping `{}`,
plain/single/double-quoted scalars, `null`/`~`, booleans, integers, literal block scalars `|`,
comments and `---` document separators. Anything else is
a ValueError naming the line, so a malformed file fails the install like the real parser would.
"""

from __future__ import annotations

import re
from typing import Any

_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE", "yes", "Yes", "on", "On"}
_FALSE = {"false", "False", "FALSE", "no", "No", "off", "Off"}


class _Line:
    def __init__(self, number: int, indent: int, text: str) -> None:
        self.number = number
        self.indent = indent
        self.text = text


def load_all(text: str) -> list[Any]:
    """Every document in `text`, in order (empty documents come back as None)."""
    docs: list[list[tuple[int, str]]] = [[]]
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.rstrip() == "---" or raw.startswith("--- "):
            docs.append([])
            continue
        if raw.rstrip() == "...":
            continue
        docs[-1].append((number, raw))
    return [_Parser(lines).parse() for lines in docs if lines or len(docs) == 1]


class _Parser:
    def __init__(self, raw_lines: list[tuple[int, str]]) -> None:
        self.raw = raw_lines
        self.lines: list[_Line] = []
        for number, raw in raw_lines:
            if "\t" in raw[: len(raw) - len(raw.lstrip())]:
                raise ValueError(f"line {number}: found a tab character used as indentation")
            stripped = _strip_comment(raw).rstrip()
            if stripped.strip():
                indent = len(stripped) - len(stripped.lstrip(" "))
                self.lines.append(_Line(number, indent, stripped.strip()))
        self.pos = 0

    def parse(self) -> Any:
        if not self.lines:
            return None
        value = self._node(self.lines[0].indent)
        if self.pos < len(self.lines):
            line = self.lines[self.pos]
            raise ValueError(f"line {line.number}: did not find expected key")
        return value

    def _node(self, indent: int) -> Any:
        line = self.lines[self.pos]
        if line.text.startswith("- ") or line.text == "-":
            return self._sequence(line.indent)
        if _split_key(line.text) is not None:
            return self._mapping(line.indent)
        self.pos += 1
        return _scalar(line.text, line.number)

    def _sequence(self, indent: int) -> list[Any]:
        items: list[Any] = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            is_item = line.text.startswith("- ") or line.text == "-"
            if line.indent < indent or (line.indent == indent and not is_item):
                break  # the parent mapping goes on (a sequence may sit at its key's indent)
            if line.indent > indent:
                raise ValueError(f"line {line.number}: bad indentation of a sequence entry")
            rest = line.text[1:].strip()
            if not rest:
                self.pos += 1
                items.append(self._child(indent))
                continue
            # "- key: value" opens a mapping whose keys sit two columns further in.
            inner = line.indent + 2
            self.lines[self.pos] = _Line(line.number, inner, rest)
            if _split_key(rest) is not None:
                items.append(self._mapping(inner))
            else:
                self.pos += 1
                items.append(_scalar(rest, line.number))
        return items

    def _mapping(self, indent: int) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent < indent:
                break
            if line.indent > indent:
                raise ValueError(f"line {line.number}: bad indentation of a mapping entry")
            split = _split_key(line.text)
            if split is None:
                raise ValueError(f"line {line.number}: could not find expected ':'")
            key, rest = split
            if key in mapping:
                raise ValueError(f'line {line.number}: mapping key "{key}" already defined')
            self.pos += 1
            if rest in ("|", "|-", "|+"):
                mapping[key] = self._literal(indent, rest)
            elif rest == "":
                mapping[key] = self._child(indent, allow_same_indent_sequence=True)
            else:
                mapping[key] = _scalar(rest, line.number)
        return mapping

    def _child(self, indent: int, allow_same_indent_sequence: bool = False) -> Any:
        if self.pos >= len(self.lines):
            return None
        nxt = self.lines[self.pos]
        is_seq = nxt.text.startswith("- ") or nxt.text == "-"
        if nxt.indent > indent or (allow_same_indent_sequence and nxt.indent == indent and is_seq):
            return self._node(nxt.indent)
        return None

    def _literal(self, indent: int, style: str) -> str:
        # Block scalars keep comment-like text, so read them from the raw lines.
        if self.pos >= len(self.lines) or self.lines[self.pos].indent <= indent:
            return ""
        first = self.lines[self.pos]
        start = next(i for i, (n, _) in enumerate(self.raw) if n == first.number)
        body: list[str] = []
        end_number = first.number
        for number, raw in self.raw[start:]:
            if raw.strip() and len(raw) - len(raw.lstrip(" ")) < first.indent:
                break
            body.append(raw[first.indent :])
            end_number = number
        while self.pos < len(self.lines) and self.lines[self.pos].number <= end_number:
            self.pos += 1
        text = "\n".join(body).rstrip("\n")
        return text if style == "|-" else text + "\n"


def _strip_comment(raw: str) -> str:
    quote = ""
    for i, ch in enumerate(raw):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or raw[i - 1] in " \t"):
            return raw[:i]
    return raw


_KEY = re.compile(r"""^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^'"\[\]{},#][^:]*?)\s*:(?:\s+(.*)|$)""")


def _split_key(text: str) -> tuple[str, str] | None:
    match = _KEY.match(text)
    if match is None:
        return None
    key = match.group(1)
    if key[0] in "'\"":
        key = str(_scalar(key, 0))
    return key, (match.group(2) or "").strip()


def _scalar(text: str, number: int) -> Any:
    if text.startswith('"'):
        if not text.endswith('"') or len(text) < 2:
            raise ValueError(f"line {number}: unterminated double-quoted scalar")
        return bytes(text[1:-1], "utf-8").decode("unicode_escape")
    if text.startswith("'"):
        if not text.endswith("'") or len(text) < 2:
            raise ValueError(f"line {number}: unterminated single-quoted scalar")
        return text[1:-1].replace("''", "'")
    if text.startswith("["):
        if not text.endswith("]"):
            raise ValueError(f"line {number}: unterminated flow sequence")
        inner = text[1:-1].strip()
        return [_scalar(part.strip(), number) for part in _split_flow(inner)] if inner else []
    if text.startswith("{") and text[1:-1].strip() == "" and text.endswith("}"):
        return {}  # kubeconfigs carry `preferences: {}`
    if text.startswith("{"):
        raise ValueError(f"line {number}: flow mappings are not supported by this reader")
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    return text


def _split_flow(inner: str) -> list[str]:
    parts, depth, quote, current = [], 0, "", ""
    for ch in inner:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return parts
