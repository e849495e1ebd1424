"""The language pfof states the Rule 606 schema in: element declarations and content models.

An :class:`Element` declares either a simple type or a complex type's content model (particles:
:class:`Occurs`, :class:`Sequence`, :class:`Choice`) with its ``xs:unique`` constraints
(:class:`Unique`). A content model is compiled once, on first use, to a
:class:`ContentAutomaton` over child element names, which the streaming validator steps
through child by child. The SEC schema itself is written in this language in
``sec606_declarations``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pfof.formats.sec606_types import (
    NAMED_TYPES,
    SIMPLE_TYPES,
    UNION_MEMBERS,
    XSD_NS,
    SimpleType,
)


@dataclass(eq=False)
class Element:
    """An element declaration: a simple type, or a complex type's content model."""

    name: str
    simple: SimpleType | None = None
    content: Particle | None = None
    uniques: tuple[Unique, ...] = ()
    automaton: ContentAutomaton | None = None  # ``content`` compiled, see automaton_of
    type_name: str | None = None  # the schema's name of the element's type, when it has one

    def __post_init__(self) -> None:
        if self.type_name is None and self.simple is not None and self.simple.name in NAMED_TYPES:
            self.type_name = self.simple.name

    def substitute(self, qname: str, nsmap: dict[str | None, str]) -> Element | None:
        """The declaration an ``xsi:type`` of ``qname`` validates with, or None if not allowed.

        As libxml2 does: the element's own named type, or a member type of a union the
        element's type is directly built from (``PctOrNmType``, the ``mic``/``mpid`` unions).
        """
        prefix, _, local = qname.rpartition(":")
        if prefix:
            if (
                nsmap.get(prefix) == XSD_NS
                and local == "string"
                and self.simple is SIMPLE_TYPES["string"]
            ):
                return self
            return None
        if nsmap.get(None):
            return None  # an unprefixed QName in a default namespace names no schema type
        if local == self.type_name:
            return self
        simple_key = self.simple.name if self.simple is not None else None
        for member in UNION_MEMBERS.get(simple_key or "", ()):
            if member.name == local:
                return Element(self.name, simple=member, type_name=local)
        return None


@dataclass(frozen=True)
class Unique:
    """An ``xs:unique`` constraint: ``selector`` is a child path from the scope element."""

    name: str
    selector: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass
class Occurs:
    """An element particle: ``element`` occurs ``min`` to ``max`` times in a row."""

    element: Element
    min: int = 1
    max: int | None = 1  # None = unbounded


@dataclass
class Sequence:
    """A model group whose particles occur in order."""

    items: list[Particle]


@dataclass
class Choice:
    """A model group of which exactly one particle occurs."""

    items: list[Particle]


Particle = Occurs | Sequence | Choice


def local_element(name: str, type_name: str) -> Element:
    """A local element declaration of a simple type named in ``SIMPLE_TYPES``."""
    return Element(name, SIMPLE_TYPES[type_name])


def optional(element: Element, max_occurs: int | None = 1) -> Occurs:
    """``element`` with ``minOccurs=0`` (``max_occurs=None`` means unbounded)."""
    return Occurs(element, 0, max_occurs)


def required(element: Element) -> Occurs:
    """``element`` exactly once."""
    return Occurs(element)


class ContentAutomaton:
    """A content model compiled to an automaton over child element names (DFA-cached)."""

    def __init__(self, particle: Particle) -> None:
        self.eps: list[list[int]] = []
        self.trans: list[list[tuple[str, Occurs, int]]] = []
        self.start = self._new()
        self.final = self._build(particle, self.start)
        self.initial = self._closure({self.start})
        self._cache: dict[tuple[frozenset[int], str], tuple[frozenset[int], Occurs] | None] = {}

    def _new(self) -> int:
        self.eps.append([])
        self.trans.append([])
        return len(self.eps) - 1

    def _build(self, p: Particle, s: int) -> int:
        if isinstance(p, Sequence):
            for item in p.items:
                s = self._build(item, s)
            return s
        if isinstance(p, Choice):
            end = self._new()
            for item in p.items:
                self.eps[self._build(item, s)].append(end)
            return end
        for _ in range(p.min):
            n = self._new()
            self.trans[s].append((p.element.name, p, n))
            s = n
        if p.max is None:
            loop = self._new()
            self.eps[s].append(loop)
            self.trans[loop].append((p.element.name, p, loop))
            return loop
        end = self._new()
        for _ in range(p.max - p.min):
            self.eps[s].append(end)
            n = self._new()
            self.trans[s].append((p.element.name, p, n))
            s = n
        self.eps[s].append(end)
        return end

    def _closure(self, states: set[int]) -> frozenset[int]:
        stack, seen = list(states), set(states)
        while stack:
            for nxt in self.eps[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(seen)

    def step(self, states: frozenset[int], name: str) -> tuple[frozenset[int], Occurs] | None:
        """The states after a child ``name`` and its particle, or None if it is not allowed."""
        key = (states, name)
        if key not in self._cache:
            nxt: set[int] = set()
            occ: Occurs | None = None
            for s in states:
                for label, o, target in self.trans[s]:
                    if label == name:
                        nxt.add(target)
                        occ = o
            self._cache[key] = (self._closure(nxt), occ) if occ is not None else None
        return self._cache[key]

    def expected(self, states: frozenset[int]) -> list[str]:
        """The child names allowed next, in content-model order (for messages)."""
        names: list[str] = []
        for s in sorted(states):
            for label, _, _ in self.trans[s]:
                if label not in names:
                    names.append(label)
        return names

    def accepts(self, states: frozenset[int]) -> bool:
        """Whether the content may end here."""
        return self.final in states


def automaton_of(element: Element) -> ContentAutomaton:
    """``element``'s compiled content model, built on first use and kept on the declaration."""
    if element.automaton is None:
        assert element.content is not None
        element.automaton = ContentAutomaton(element.content)
    return element.automaton
