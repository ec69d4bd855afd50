"""JSON in and out, fast where it can be and exactly as the standard library otherwise.

orjson parses and writes JSON several times faster than `json`; where the two would
differ, `json` does the work: numbers of 19 digits or more (orjson reads big integers
as floats and refuses to write them), and anything orjson refuses (NaN literals, lone
surrogates, other encodings than UTF-8).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson

# digits -> "0", anything else -> " ": a run of 19 zeros in the translation is a run of 19 digits
_DIGITS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG = b"0" * 19


def loads(data: bytes | bytearray | str) -> Any:
    """`json.loads`, faster."""
    raw = data.encode(errors="surrogatepass") if isinstance(data, str) else data
    if raw.translate(_DIGITS).find(_LONG) < 0:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (as `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`), faster."""
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits, keys that are not strings, lone surrogates, ...
        pass
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:  # a lone surrogate: written as its \u escape, as JSON allows
        return json.dumps(value, separators=(",", ":")).encode()


def media_loads(value: bytes, **parameters: str) -> Any:
    """openapi-core's deserializer of application/json bodies."""
    return loads(value)


_IMMUTABLE = (str, int, float, bool, bytes, type(None))


def copy_value(value: Any) -> Any:
    """A deep copy of JSON-like values (`copy.deepcopy`, faster)."""
    if isinstance(value, _IMMUTABLE):
        return value
    if type(value) is dict:
        return {k: copy_value(v) for k, v in value.items()}
    if type(value) is list:
        return [copy_value(v) for v in value]
    return copy.deepcopy(value)
