"""Safe YAML reading that remembers line numbers and refuses what is dangerous.

Both the knowledge base and case files are read through here, so every later
error can point at a line. On top of PyYAML's safe constructor this loader

* keeps the line of every mapping, key and list item on the parsed object
  (``YamlMap.key_lines``, ``YamlList.item_lines``) instead of injecting keys;
* rejects duplicate keys, which plain YAML silently overwrites;
* refuses aliases (``*name``): no case or rule needs them, and they are how
  "billion laughs" documents blow up memory and time;
* refuses nesting deeper than ``MAX_DEPTH``, so no document can exhaust the
  stack (libyaml's own composer would crash the interpreter on that).

Tags that would build Python objects are refused by the safe constructor.
Events come from libyaml where it is installed (fast); the composing, where the
checks live, is PyYAML's pure-Python composer either way.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import IO, Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import (AliasEvent, DocumentEndEvent, DocumentStartEvent, SequenceEndEvent,
                         SequenceStartEvent)
from yaml.resolver import Resolver

from .errors import InputFileError, Location

MAX_DEPTH = 32

try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # PyYAML built without libyaml
    from yaml.parser import Parser as _PyParser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, _PyParser):  # type: ignore[no-redef]
        def __init__(self, stream: Any) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            _PyParser.__init__(self)


class YamlMap(dict):
    """A mapping read from YAML, with the line of itself and of each key."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        """The line of ``key`` if it was read from YAML, else the mapping's line."""
        return self.key_lines.get(key, self.line)


class YamlList(list):
    """A list read from YAML, with the line of itself and of each item."""

    line: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        """The line of item ``index`` if it was read from YAML, else the list's line."""
        return self.item_lines[index] if index < len(self.item_lines) else self.line


def line_of(container: object, key: Any = None) -> int | None:
    """The line where ``container`` (or its ``key``) was written, if known."""
    if isinstance(container, (YamlMap, YamlList)):
        return container.line_of(key) if key is not None else container.line
    return None


class _RefusedYaml(yaml.MarkedYAMLError):
    pass


class _SafeMarkedLoader(Composer, _Parser, SafeConstructor, Resolver):
    def __init__(self, stream: Any) -> None:
        _Parser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            mark = self.peek_event().start_mark
            raise _RefusedYaml(None, None, "YAML aliases (*name) are not allowed", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _RefusedYaml(None, None,
                                   f"nested deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # PyYAML lets a few scalars escape as plain ValueErrors (a date like
        # 2020-13-45, an integer longer than Python's digit limit).
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            text = node.value if isinstance(node.value, str) else node.tag
            shown = text if len(text) <= 40 else text[:39] + "…"
            raise _RefusedYaml(None, None, f"cannot read the value {shown!r}: {exc}",
                               node.start_mark) from None

    def construct_yaml_map(self, node: yaml.MappingNode) -> Iterator[YamlMap]:
        data = YamlMap()
        data.line = node.start_mark.line + 1
        yield data
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                raise _RefusedYaml(None, None, "a mapping key must be a plain value",
                                   key_node.start_mark)
            if key in data:
                raise _RefusedYaml(None, None,
                                   f"duplicate key {key!r} (first at line {data.key_lines[key]})",
                                   key_node.start_mark)
            data[key] = self.construct_object(value_node, deep=True)
            data.key_lines[key] = line

    def construct_yaml_seq(self, node: yaml.SequenceNode) -> Iterator[YamlList]:
        data = YamlList()
        data.line = node.start_mark.line + 1
        yield data
        for item in node.value:
            data.append(self.construct_object(item, deep=True))
            data.item_lines.append(item.start_mark.line + 1)


_SafeMarkedLoader.add_constructor("tag:yaml.org,2002:map", _SafeMarkedLoader.construct_yaml_map)
_SafeMarkedLoader.add_constructor("tag:yaml.org,2002:seq", _SafeMarkedLoader.construct_yaml_seq)


def _file_error(exc: yaml.YAMLError, name: str) -> InputFileError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if "maximum nesting depth" in problem:
        # libyaml (the C parser of PyYAML >= 6.0.4) has a nesting limit of its own, met
        # before ours when it scans a deep flow collection ahead: one message for both.
        problem, context = f"nested deeper than {MAX_DEPTH} levels", None
    message = f"{context}, {problem}" if context else problem
    return InputFileError(f"invalid YAML: {message}", Location(name, line))


def iter_yaml_documents(stream: IO[str] | str, name: str) -> Iterator[tuple[Any, int]]:
    """Yield ``(document, first line)`` for each YAML document, one at a time.

    Raises :class:`InputFileError` naming ``name`` and the line for any syntax
    error, duplicate key, alias, excessive nesting or unsafe tag.
    """
    loader = _SafeMarkedLoader(stream)
    try:
        while loader.check_node():
            node = loader.get_node()
            yield loader.construct_document(node), node.start_mark.line + 1
    except yaml.YAMLError as exc:
        raise _file_error(exc, name) from None
    finally:
        loader.dispose()


def iter_yaml_cases(stream: IO[str] | str, name: str) -> Iterator[tuple[Any, int]]:
    """Yield ``(item, line)`` for each case of a case file, one at a time.

    A document that is a list gives its items, composed one by one so that a
    single list of any length never sits whole in memory; any other document
    is one item; empty documents give nothing. Errors as for
    :func:`iter_yaml_documents`.
    """
    loader = _SafeMarkedLoader(stream)
    try:
        while loader.check_node():
            if not loader.check_event(DocumentStartEvent):
                break
            loader.get_event()
            if loader.check_event(SequenceStartEvent) and loader.peek_event().tag in (
                    None, "!", "tag:yaml.org,2002:seq"):
                yield from _sequence_items(loader)
            else:
                node = loader.compose_node(None, None)
                document = loader.construct_document(node)
                if document is not None:
                    yield document, node.start_mark.line + 1
            loader.get_event()  # DocumentEndEvent
            loader.anchors = {}
    except yaml.YAMLError as exc:
        raise _file_error(exc, name) from None
    finally:
        loader.dispose()


def _sequence_items(loader: _SafeMarkedLoader) -> Iterator[tuple[Any, int]]:
    """The items of the top-level list whose start event is next, composed one at a time."""
    start = loader.get_event()
    if start.anchor is not None:
        raise _RefusedYaml(None, None, "YAML anchors on the list of cases are not allowed",
                           start.start_mark)
    loader._depth += 1
    try:
        while not loader.check_event(SequenceEndEvent):
            node = loader.compose_node(None, None)
            yield loader.construct_document(node), node.start_mark.line + 1
            loader.anchors = {}
        loader.get_event()
    finally:
        loader._depth -= 1
    if not loader.check_event(DocumentEndEvent):
        raise _RefusedYaml(None, None, "expected the end of the document", loader.peek_event().start_mark)


def load_yaml(stream: IO[str] | str, name: str) -> Any:
    """Read exactly one YAML document (``None`` for an empty stream)."""
    documents = list(iter_yaml_documents(stream, name))
    if len(documents) > 1:
        raise InputFileError(
            f"expected one YAML document, found {len(documents)}",
            Location(name, documents[1][1]))
    return documents[0][0] if documents else None
