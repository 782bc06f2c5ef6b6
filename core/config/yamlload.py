"""Reading YAML a person wrote: keys always strings, and no alias bombs or absurd nesting.

YAML 1.1 reads ``on:``, ``yes:`` or ``off:`` as booleans and ``1:`` as an integer; as a key in a
configuration each is meant as the word written, so every scalar key is kept as the text typed.
Aliases are shared by the parser but copied by whatever walks the result, so a "billion laughs"
document of a few hundred bytes would expand to gigabytes: its expanded size is measured on the
node graph (memoised, so in time proportional to the file) and refused past ``MAX_NODES``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import yaml

MAX_NODES = 100_000  # values after expanding aliases; a real configuration has a few hundred
MAX_DEPTH = 64


class YamlTooBig(ValueError):
    """The document expands past what a configuration can need (alias bomb, absurd nesting)."""


class _Loader(yaml.SafeLoader):
    """SafeLoader whose mapping keys are the text as written (``on`` stays ``"on"``)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key: Any = key_node.value
            else:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "found a key that is a list or mapping; keys are plain words", key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)


def _measure(root: yaml.Node) -> None:
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_DEPTH:
            raise YamlTooBig(f"nested more than {MAX_DEPTH} levels deep; a configuration needs a few")
        if id(node) in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if done or not children:
            size = 1 + sum(sizes.get(id(c), 0) for c in children)
            if size > MAX_NODES:
                raise YamlTooBig(f"expands to more than {MAX_NODES} values (aliases repeating aliases?); "
                                 "refused")
            sizes[id(node)] = size
            continue
        stack.append((node, depth, True))
        stack += [(c, depth + 1, False) for c in children if id(c) not in sizes]


def _check_depth(text: str) -> None:
    """The parser works on events without recursion; the composer recurses, so check first."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlTooBig(f"nested more than {MAX_DEPTH} levels deep; a configuration needs a few")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def load_yaml(text: str) -> Any:
    """The document as Python values, keys as strings; ``YamlTooBig`` or ``yaml.YAMLError`` when refused."""
    _check_depth(text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``' (did you mean 'x'?)'`` for the closest choice, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
