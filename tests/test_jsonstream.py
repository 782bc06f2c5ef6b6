"""The company listing parsed one company at a time gives what json.loads gives, errors included."""

from __future__ import annotations

import json

import pytest

from plugins.also.jsonstream import array_items, starts_array

CASES = ['[]', ' [ ] ', '[1]', '[1,2 , 3]\n', '[{"a":[1,{"b":2}]}, "x", null, true, 1.5e3]', '[1,]', '[1 2]',
         '[1', '[', '[1]x', '[1] [2]', '[,1]', '[] x', '[{"a":1,}]', '  [ "\\u00e9" ,{} ]  ', '[1,\n2,\n{"x": tru}]']


def _outcome(parse, text: str) -> tuple[str, object]:
    try:
        return "ok", parse(text)
    except ValueError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("text", CASES)
def test_same_records_and_same_error_message_as_json_loads(text: str) -> None:
    assert starts_array(text)
    assert _outcome(lambda t: list(array_items(t)), text) == _outcome(json.loads, text)


def test_not_an_array_is_told_apart() -> None:
    assert not starts_array(' {"a": 1}') and not starts_array("\ufeff[1]") and not starts_array("")
