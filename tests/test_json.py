"""The fast JSON path gives what `json` gives (toolkit/_json.py)."""

from __future__ import annotations

import json
import math

import pytest

from xsolla_contract.toolkit._json import dumps, loads


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"a": [1, 2.5, "x", null, true]}', id="plain"),
        pytest.param('{"n": 123456789012345678901234567890}', id="integer beyond 64 bits"),
        pytest.param('{"f": 0.1234567890123456789012}', id="long fraction"),
        pytest.param('["\\ud800"]', id="lone surrogate"),
        pytest.param('{"a": 1, "a": 2}', id="repeated key"),
    ],
)
def test_loads_reads_what_json_reads(text: str) -> None:
    assert loads(text) == json.loads(text) and loads(text.encode()) == json.loads(text)
    assert type(loads(text)) is type(json.loads(text))


def test_loads_takes_the_literals_json_takes() -> None:
    assert math.isnan(loads("NaN")) and loads("Infinity") == math.inf


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"name": "Flammenschwert ü", "n": [1, 2.5]}, id="plain"),
        pytest.param({"n": 10**30}, id="integer beyond 64 bits"),
        pytest.param({"sku": "a\ud800b"}, id="lone surrogate"),
        pytest.param({1: "key that is not a string"}, id="integer key"),
    ],
)
def test_dumps_writes_json_that_reads_back(value: object) -> None:
    written = dumps(value)
    written.decode("utf-8")  # always valid UTF-8
    assert json.loads(written) == json.loads(json.dumps(value))
