"""Streaming validation of a Rule 606 document against the SEC schema's declarations.

A :class:`Walker` is fed the start and end events of one parse and checks each element as it
closes: its place in the parent's content model, its simple-type value, its attributes
(``xsi:type`` included), stray text and the ``xs:unique`` keys. Each broken rule becomes a
:class:`Violation`. Finished subtrees are freed as the walk goes, so a report of any size is
validated in bounded memory; the tests prove the verdicts equal lxml's on the official XSD.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pfof.formats.sec606_declarations import GLOBAL_ELEMENTS, REPORT_ROOTS
from pfof.formats.sec606_grammar import Element, automaton_of
from pfof.formats.sec606_types import WHITESPACE, XSI, Invalid


@dataclass(slots=True)
class Violation:
    """One schema rule broken at one element."""

    rule: str  # the schema rule or type name, e.g. "CphType", "content", "uniqueMics"
    path: str
    message: str
    line: int | None
    tolerable: str | None = None  # lenient rule name when reading may continue


class Frame:
    """Validation state of one open element (complex elements carry more state)."""

    __slots__ = (
        "broken",
        "count",
        "counts",
        "decl",
        "elem",
        "items",
        "keys",
        "label",
        "line",
        "name",
        "repeat",
        "states",
        "texted",
        "values",
    )

    def __init__(
        self, name: str, decl: Element | None, line: int | None, repeat: bool, count: int
    ) -> None:
        self.name = name
        self.decl = decl
        self.line = line
        self.repeat = repeat
        self.count = count
        self.broken = False
        self.texted = False
        self.label: str | None = None
        self.states: frozenset[int] | None = None
        self.values: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        self.items: list[tuple[str, Any]] = []
        self.keys: dict[str, dict[tuple[Any, ...], int | None]] | None = None

    @property
    def segment(self) -> str:
        """This element's step in a violation path: ``name``, ``name[2]`` or ``rMonthly[mon=6]``."""
        if self.label is not None:
            return f"{self.name}[mon={self.label}]"
        return f"{self.name}[{self.count}]" if self.repeat or self.count > 1 else self.name


#: Violations (and warnings) kept per rule; the rest are only counted.
MAX_PER_RULE = 1000
#: Texts whose parsed value is kept per simple type (the values are immutable).
MEMO_SIZE = 4096
#: Elements whose path segment is labelled by their ``mon`` child.
_LABELLED = {"rMonthly", "hMonthly"}
#: Names that end a unique constraint's selector (only these need key bookkeeping).
_SELECTED = {u.selector[-1] for e in GLOBAL_ELEMENTS.values() for u in e.uniques} | {"hMonthly"}
_ALLOWED_XSI = (f"{{{XSI}}}noNamespaceSchemaLocation", f"{{{XSI}}}schemaLocation")
_XSI_TYPE = f"{{{XSI}}}type"


class Walker:
    """Validate a parsed stream element by element, calling ``on_end`` to build values.

    ``on_end`` maps an element name to a function ``(frame, stack) -> value``; the value is
    stored in the parent frame's ``items``. Finished subtrees are freed as the walk goes, so
    memory does not grow with the document.
    """

    def __init__(
        self, on_end: dict[str, Callable[[Frame, list[Frame]], Any]] | None = None
    ) -> None:
        self.violations: list[Violation] = []
        self.counts: dict[str, int] = {}  # per rule ("!rule" for errors), incl. those not kept
        self.stack: list[Frame] = []
        self.on_end = on_end or {}
        # parsed values by type and text: dates, venues and flags repeat across a report
        self.memo: dict[str, dict[str, Any]] = {}

    def path(self, upto: int | None = None) -> str:
        frames = self.stack[1:upto]
        return "/".join(f.segment for f in frames) or (self.stack[0].name if self.stack else "")

    def add(
        self,
        rule: str,
        message: str,
        line: int | None,
        tolerable: str | None = None,
        path: str | None = None,
    ) -> None:
        key = rule if tolerable else f"!{rule}"  # errors are never crowded out by warnings
        count = self.counts.get(key, 0) + 1
        self.counts[key] = count
        if count > MAX_PER_RULE:  # keep memory bounded on files with a deviation everywhere
            return
        self.violations.append(
            Violation(rule, self.path() if path is None else path, message, line, tolerable)
        )

    def start(self, elem: Any) -> None:
        name = elem.tag
        if not isinstance(name, str):
            name = str(name)
        stack = self.stack
        if not stack:
            decl = GLOBAL_ELEMENTS.get(name)
            frame = Frame(name, decl, elem.sourceline, False, 1)
            stack.append(frame)
            if decl is None:
                self.add(
                    "root",
                    f"element '{name}' is not a Rule 606 report root (expected one "
                    f"of {', '.join(REPORT_ROOTS)})",
                    frame.line,
                )
        else:
            parent = stack[-1]
            count = parent.counts.get(name, 0) + 1
            parent.counts[name] = count
            decl = None
            repeat = False
            pdecl = parent.decl
            if pdecl is None:
                pass
            elif pdecl.simple is not None:
                if not parent.broken:
                    self.add(
                        "simple-content",
                        f"element '{name}' is not allowed inside "
                        f"'{parent.name}', which holds only a value",
                        elem.sourceline,
                    )
                    parent.broken = True
            elif parent.states is not None and not parent.broken:
                assert pdecl.automaton is not None
                stepped = pdecl.automaton.step(parent.states, name)
                if stepped is None:
                    expected = pdecl.automaton.expected(parent.states)
                    hint = (
                        f"expected {' or '.join(expected)}"
                        if expected
                        else "expected no more elements"
                    )
                    self.add(
                        "content",
                        f"element '{name}' is not expected here; {hint}",
                        elem.sourceline,
                        path=self._child_path(name, count),
                    )
                    parent.broken = True
                    decl = GLOBAL_ELEMENTS.get(name)
                else:
                    parent.states, occ = stepped
                    decl = occ.element
                    repeat = occ.max is None or occ.max > 1
            else:
                decl = GLOBAL_ELEMENTS.get(name)
            frame = Frame(name, decl, elem.sourceline, repeat, count)
            stack.append(frame)
        if decl is not None and decl.content is not None:
            frame.states = automaton_of(decl).initial
            if decl.uniques:
                frame.keys = {u.name: {} for u in decl.uniques}
        if elem.keys():
            self._attributes(elem, frame)

    def _child_path(self, name: str, count: int) -> str:
        seg = f"{name}[{count}]" if count > 1 else name
        return f"{self.path()}/{seg}" if len(self.stack) > 1 else seg

    def _attributes(self, elem: Any, frame: Frame) -> None:
        for attr in elem.keys():
            if attr in _ALLOWED_XSI:
                continue
            shown = attr.replace(f"{{{XSI}}}", "xsi:")
            if attr == _XSI_TYPE and frame.decl is not None:
                qname = elem.get(attr)
                target = frame.decl.substitute(qname, elem.nsmap)
                if target is None:
                    named = frame.decl.type_name or "an anonymous type"
                    self.add(
                        "xsi:type",
                        f"xsi:type '{qname}' on '{frame.name}' is neither its "
                        f"type ({named}) nor validly derived from it",
                        frame.line,
                    )
                else:
                    frame.decl = target
            elif attr.startswith(f"{{{XSI}}}"):
                self.add(
                    "attribute",
                    f"attribute '{shown}' is not allowed on '{frame.name}' "
                    "(the schema declares no element nillable)",
                    frame.line,
                )
            else:
                self.add(
                    "attribute",
                    f"attribute '{shown}' is not allowed on '{frame.name}'",
                    frame.line,
                    tolerable="unknown-attribute",
                )

    def end(self, elem: Any) -> None:
        stack = self.stack
        frame = stack[-1]
        decl = frame.decl
        parent = stack[-2] if len(stack) > 1 else None
        if decl is not None and decl.simple is not None:
            if not frame.broken:
                text = elem.text or ""
                memo = self.memo.get(decl.simple.name)
                if memo is None:
                    memo = self.memo[decl.simple.name] = {}
                try:
                    if text in memo:
                        value = memo[text]
                    else:
                        value = decl.simple.parse(text)
                        if len(memo) < MEMO_SIZE:
                            memo[text] = value
                except Invalid as bad:
                    self.add(
                        decl.simple.name,
                        f"{frame.name}: {bad.message}",
                        frame.line,
                        bad.tolerable or None,
                    )
                    if bad.tolerable is None:
                        stack.pop()
                        return
                    value = bad.fallback
                if parent is not None:
                    parent.values[frame.name] = value
                    if frame.name == "mon" and value is not None and parent.name in _LABELLED:
                        parent.label = str(value)
            stack.pop()
            return
        if decl is not None and decl.content is not None:
            if not frame.texted:
                text = elem.text
                if text and text.strip(WHITESPACE):
                    self._text_error(frame, text, len(stack))
                else:
                    for child in elem:
                        tail = child.tail
                        if tail and tail.strip(WHITESPACE):
                            self._text_error(frame, tail, len(stack))
                            break
            if not frame.broken and frame.states is not None:
                automaton = decl.automaton
                assert automaton is not None
                if not automaton.accepts(frame.states):
                    missing = automaton.expected(frame.states)
                    self.add(
                        "content",
                        f"element '{frame.name}' is incomplete: expected {' or '.join(missing)}",
                        frame.line,
                    )
        if frame.name in _SELECTED:
            self._check_uniques(frame)
        handler = self.on_end.get(frame.name)
        if handler is not None and decl is not None:
            built = handler(frame, stack)
            if built is not None and parent is not None:
                parent.items.append((frame.name, built))
        stack.pop()
        # free what is done: this element's children and its finished previous siblings
        del elem[:]
        prev = elem.getprevious()
        if prev is not None:
            parent_elem = elem.getparent()
            while prev is not None:
                tail = prev.tail
                if tail and tail.strip(WHITESPACE) and parent is not None:
                    self._text_error(parent, tail, len(stack))
                parent_elem.remove(prev)
                prev = elem.getprevious()

    def _text_error(self, frame: Frame, text: str, depth: int) -> None:
        if frame.decl is None or frame.decl.content is None or frame.texted:
            return
        frame.texted = True
        snippet = text.strip(WHITESPACE)[:40]
        self.add(
            "text",
            f"text '{snippet}' is not allowed inside '{frame.name}', which holds only elements",
            frame.line,
            path=self.path(depth),
        )

    def _check_uniques(self, frame: Frame) -> None:
        depth = len(self.stack) - 1
        for scope_index in range(depth - 1, max(depth - 3, -1), -1):
            scope = self.stack[scope_index]
            if scope.keys is None or scope.decl is None:
                continue
            rel = tuple(f.name for f in self.stack[scope_index + 1 : depth + 1])
            for unique in scope.decl.uniques:
                if unique.selector != rel:
                    continue
                if any(frame.values.get(f) is None for f in unique.fields):
                    continue  # an absent field takes the element out of the constraint
                key = tuple(frame.values[f] for f in unique.fields)
                table = scope.keys[unique.name]
                if key in table:
                    shown = ", ".join(f"{f}={v!r}" for f, v in zip(unique.fields, key, strict=True))
                    tolerable = (
                        None
                        if unique.name.lower().endswith("monthly") or unique.name.endswith("_month")
                        else "duplicate-key"
                    )
                    self.add(
                        unique.name,
                        f"duplicate {shown}: already used by the element at line {table[key]} "
                        f"(unique constraint {unique.name})",
                        frame.line,
                        tolerable,
                    )
                else:
                    table[key] = frame.line  # a line, not a path: cheap for every key
