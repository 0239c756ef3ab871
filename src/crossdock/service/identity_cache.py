"""A cache that stays valid exactly as long as the identity store does not change.

Every committed identity change (by this process or another one sharing the database)
increments the store's generation; each lookup first reads the generation (one tiny
query) and drops every entry when it moved. So a policy, key or tag change is seen by the
very next request, on every node.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from crossdock.storage.identity_store import GenerationStore

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class GenerationCache(Generic[K, V]):
    """A bounded LRU cache tied to the identity store's generation."""

    def __init__(self, generations: GenerationStore, limit: int = 4096) -> None:
        self._generations = generations
        self._limit = limit
        self._lock = threading.Lock()
        self._generation = -1
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, load: Callable[[], V]) -> V:
        """The cached value of ``key``, or ``load()`` (cached for this generation)."""
        generation = self._generations.generation()
        with self._lock:
            if generation != self._generation:
                self._entries.clear()
                self._generation = generation
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = load()  # reads data at least as new as `generation`
        with self._lock:
            if generation == self._generation:
                self._entries[key] = value
                if len(self._entries) > self._limit:
                    self._entries.popitem(last=False)
        return value
