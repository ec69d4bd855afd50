"""A small thread-safe map of least recently used entries, bounded in entries and in bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class Lru:
    """Least recently used entries go first, beyond `entries` of them or beyond `max_bytes` as
    `weigh(key, value)` counts them; one entry may not take more than an eighth of the bytes
    (it is not kept). `hits` and `misses` count the lookups."""

    def __init__(
        self, entries: int, max_bytes: int | None = None, weigh: Callable[[Any, Any], int] | None = None
    ) -> None:
        self._data: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._entries, self._max_bytes, self._weigh = entries, max_bytes, weigh
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Any) -> Any:
        with self._lock:
            found = self._data.get(key)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            self._data.move_to_end(key)
            return found[0]

    def put(self, key: Any, value: Any) -> None:
        weight = self._weigh(key, value) if self._weigh else 0
        if not self._entries or (self._max_bytes is not None and weight > self._max_bytes // 8):
            return
        with self._lock:
            old = self._data.pop(key, None)
            self._bytes += weight - (old[1] if old else 0)
            self._data[key] = (value, weight)
            while len(self._data) > self._entries or (self._max_bytes is not None and self._bytes > self._max_bytes):
                _, (_, dropped) = self._data.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)
