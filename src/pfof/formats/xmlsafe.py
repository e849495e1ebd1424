"""Secure XML parsing for untrusted files, in one place.

Every XML input pfof reads comes through here. A document type declaration is refused
outright (before lxml sees it): regulatory XML never needs one, and refusing it rules out
external entities (XXE), entity-expansion bombs (billion laughs, quadratic blow-up) and
external DTD fetches at once. lxml is additionally configured never to resolve entities,
load DTDs, touch the network or lift libxml2's size limits.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

from lxml import etree

from pfof.errors import InputError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: A path, raw XML bytes, or an open binary file.
Source = str | os.PathLike[str] | bytes | BinaryIO

_PROLOG_LIMIT = 1 << 20  # bytes of prolog (XML declaration, comments, PIs) we are willing to scan


class UnsafeXMLError(InputError):
    """The document uses a construct pfof refuses to parse (DTD, entities); the 606 readers
    report it as an issue with rule ``dtd-forbidden``."""

    rule = "dtd-forbidden"


class UndefinedEntityError(UnsafeXMLError):
    """An entity reference such as ``&nbsp;``: with no DTD read, only XML's five entities
    exist. Reported with rule ``undefined-entity`` and the line, instead of the parser's
    "no element found" or "Start tag expected"."""

    rule = "undefined-entity"

    def __init__(self, name: str, line: int | None) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(
            f"{where}entity &{name}; is not defined: pfof reads no DTD, so only XML's own "
            "entities (&amp; &lt; &gt; &quot; &apos;) and character references such as "
            "&#160; may appear"
        )
        self.line = line


_UNDECLARED = re.compile(r"Entity '([^']{0,64})")


def _undefined_entity(log: etree._ListErrorLog) -> UndefinedEntityError | None:
    """The first undeclared-entity error of a parser's log, as pfof reports it."""
    for entry in log:
        if entry.type_name == "ERR_UNDECLARED_ENTITY":
            found = _UNDECLARED.search(entry.message)
            return UndefinedEntityError(found.group(1) if found else "?", entry.line)
    return None


def source_name(source: Source) -> str:
    """A human-readable name of a source for messages."""
    if isinstance(source, bytes):
        return "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return str(getattr(source, "name", "<stream>"))


def _open(source: Source) -> tuple[IO[bytes], bool]:
    if isinstance(source, bytes):
        return io.BytesIO(source), True
    if isinstance(source, (str, os.PathLike)):
        return open(Path(source), "rb"), True
    return source, False


class _Replay(io.RawIOBase):
    """A stream that first returns an already-read prefix, then the rest of ``inner``."""

    def __init__(self, prefix: bytes, inner: IO[bytes]) -> None:
        self._prefix = prefix
        self._inner = inner

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size < 0 or size >= len(self._prefix):
                out, self._prefix = self._prefix, b""
                if size < 0:
                    return out + self._inner.read()
                return out + self._inner.read(size - len(out))
            out, self._prefix = self._prefix[:size], self._prefix[size:]
            return out
        return self._inner.read(size)

    def readinto(self, buffer: WriteableBuffer) -> int:
        with memoryview(buffer) as view:
            data = self.read(len(view))
            view[: len(data)] = data
        return len(data)


def _decode_prolog(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    if raw[:4] in (b"\x00<\x00?", b"<\x00?\x00"):
        return raw.decode("utf-16-be" if raw[0] == 0 else "utf-16-le", errors="replace")
    return raw.decode("latin-1")


def _check_prolog(text: str) -> bool:
    """Scan the prolog; raise on a DOCTYPE. True when the root start tag was reached."""
    i, n = 0, len(text)
    if text.startswith("\ufeff"):
        i = 1
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
        elif text.startswith("<?", i):
            end = text.find("?>", i + 2)
            if end < 0:
                return False
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return False
            i = end + 3
        elif ch == "&":  # an entity before the root: the parser says only "Start tag expected"
            end = text.find(";", i, i + 66)
            line = text.count("\n", 0, i) + 1
            raise UndefinedEntityError(text[i + 1 : end] if end > 0 else "?", line)
        elif text.startswith("<!", i):
            if text.startswith("<!DOCTYPE", i) or text[i:].upper().startswith("<!DOCTYPE"):
                raise UnsafeXMLError(
                    "a document type declaration (<!DOCTYPE ...>) is not allowed: pfof refuses "
                    "DTDs, entity declarations and external entities in untrusted XML"
                )
            return True  # something else; let the parser report it
        else:
            return True
    return False


def _open_checked(source: Source) -> tuple[IO[bytes], bool]:
    """Open ``source`` after checking its prolog; returns (stream, caller_must_close)."""
    stream, owned = _open(source)
    prefix = b""
    try:
        while len(prefix) < _PROLOG_LIMIT:
            chunk = stream.read(65536)
            if not chunk:
                break
            prefix += chunk
            if _check_prolog(_decode_prolog(prefix)):
                break
        else:
            raise UnsafeXMLError("the XML prolog is longer than 1 MiB before the root element")
    except BaseException:
        if owned:
            stream.close()
        raise
    if owned:  # a file or bytes pfof opened: read it again from the start
        stream.seek(0)
        return stream, owned
    return io.BufferedReader(_Replay(prefix, stream), buffer_size=1 << 16), owned


def _parser_options() -> dict[str, bool]:
    """lxml options used for every untrusted document."""
    return {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "huge_tree": False,
    }


def _secure_parser() -> etree.XMLParser:
    """An lxml parser for untrusted XML (use with :func:`parse_bytes`)."""
    return etree.XMLParser(remove_comments=False, remove_pis=False, **_parser_options())


def parse_bytes(data: bytes) -> etree._ElementTree:
    """Parse a whole small document safely (DOCTYPE refused)."""
    _check_prolog(_decode_prolog(data[:_PROLOG_LIMIT]))
    parser = _secure_parser()
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser))
    except etree.XMLSyntaxError as exc:
        raise _undefined_entity(parser.error_log) or exc from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXMLError("a document type declaration is not allowed")
    return tree


def _diagnosis(source: Source) -> InputError | etree.XMLSyntaxError | None:
    """The first well-formedness error of ``source`` parsed again in one piece, when it can
    be read again: lxml's incremental parser, fed chunk by chunk, reports a chunk after an
    undefined entity as "Start tag expected, line 1", naming neither the cause nor the line."""
    if isinstance(source, (bytes, str, os.PathLike)):
        stream, _ = _open(source)
    elif source.seekable():
        source.seek(0)
        stream = source
    else:
        return None
    parser = _secure_parser()
    try:
        etree.parse(stream, parser)
    except etree.XMLSyntaxError as exc:
        return _undefined_entity(parser.error_log) or exc
    except OSError:
        return None
    finally:
        if stream is not source:
            stream.close()
    return None


def pull_parser(events: tuple[str, ...] = ("start",)) -> etree.XMLPullParser:
    """A feed parser for untrusted XML, with the settings of :func:`iterparse` (the caller
    checks the prolog, e.g. by feeding only what :func:`schema_valid` has accepted)."""
    return etree.XMLPullParser(events=events, **_parser_options())


class _NoTree:
    """A parser target that builds nothing: the document is only checked, in constant memory."""

    def close(self) -> None:
        return None


#: Bytes :func:`schema_valid` reads and inspects at a time (lxml hands them to libxml2 in the
#: ~4 KB pieces it asks for).
CHUNK = 1 << 18


class _Stop(Exception):
    """Raised from inside a parse to end it when the inspector has seen enough."""


class _Inspected:
    """A binary stream that shows each piece it returns to ``inspect`` first."""

    def __init__(self, stream: IO[bytes], inspect: Callable[[bytes, bool], bool] | None) -> None:
        self._stream = stream
        self._inspect = inspect

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(CHUNK)
        if self._inspect is not None and not self._inspect(data, not data):
            raise _Stop
        return data


def schema_valid(
    source: Source,
    schema: etree.XMLSchema,
    inspect: Callable[[bytes, bool], bool] | None = None,
) -> bool:
    """Whether an untrusted document is well-formed and valid for ``schema``, in C.

    libxml2 validates while it parses, building no tree, after the same DOCTYPE refusal and
    with the same entity and network settings as :func:`iterparse`. A document of at most
    :data:`SMALL` bytes is read whole, a larger one in pieces of :data:`CHUNK` bytes (constant
    memory on any size). ``inspect(piece, last)`` sees the raw bytes as the parser reads them
    (all of a small document at once) and may stop the check by returning False (the answer
    is then False). False also means malformed, unsafe or unreadable: the caller finds out
    which with a detailed pass.
    """
    parser = etree.XMLParser(target=_NoTree(), schema=schema, **_parser_options())
    try:
        data = _small(source)
        if data is not None:  # parsed from memory: no Python step per read
            _check_prolog(_decode_prolog(data[:_PROLOG_LIMIT]))
            if inspect is not None and not inspect(data, True):
                return False
            etree.fromstring(data, parser)
            return not len(parser.error_log)
        stream, owned = _open_checked(source)
    except (InputError, OSError, etree.LxmlError):
        return False
    try:
        etree.parse(_Inspected(stream, inspect), parser)
    except (_Stop, etree.LxmlError, OSError):
        return False
    finally:
        if owned:
            stream.close()
    return not len(parser.error_log)


#: Documents up to this size are read whole by :func:`schema_valid`.
SMALL = 8 << 20


def _small(source: Source) -> bytes | None:
    """The whole document when it is bytes or a file of at most :data:`SMALL` bytes."""
    if isinstance(source, bytes):
        return source if len(source) <= SMALL else None
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.stat().st_size <= SMALL:
            return path.read_bytes()
    return None


def iterparse(
    source: Source, events: tuple[str, ...] = ("start", "end")
) -> Iterator[tuple[str, etree._Element]]:
    """Stream ``(event, element)`` pairs from an untrusted document.

    Comments and processing instructions are dropped (they carry no report data); the caller
    is responsible for freeing elements it has finished with.
    """
    stream, owned = _open_checked(source)
    try:
        context = etree.iterparse(
            stream, events=events, remove_comments=True, remove_pis=True, **_parser_options()
        )
        first = True
        try:
            events_ = iter(context)
            for event, element in events_:
                first = False
                docinfo = element.getroottree().docinfo
                if docinfo.doctype or docinfo.internalDTD is not None:
                    raise UnsafeXMLError("a document type declaration is not allowed")
                yield event, element
                break
            yield from events_  # the rest without a Python step per event
        except etree.XMLSyntaxError as exc:
            found: InputError | etree.XMLSyntaxError | None = _undefined_entity(context.error_log)
            if found is None and not first:  # lxml may report a later chunk's confusion
                found = _diagnosis(source)
            raise found or exc from exc
    finally:
        if owned:
            stream.close()
