"""A cache of computed results shared by the requests of every process: Redis when
``GOVQMS_REDIS_URL`` is set, this process's memory otherwise (the embedded default).

Keys carry what the value was computed from (versions, the day, the language), so a key is never
invalidated: a change makes new keys, and old ones expire. A cache that cannot be reached is a miss,
never an error: pages compute what they need and say nothing, and the cache is not asked again
for half a minute.
"""
from __future__ import annotations

import logging
import pickle
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)
#: values live this long in Redis (a key whose inputs changed is never asked for again)
TTL_SECONDS = 36 * 3600


class MemoryCache:
    """Least recently used entries of this process, up to *size*."""

    def __init__(self, size: int = 50_000):
        self.size, self._data, self._lock = size, OrderedDict(), threading.Lock()

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        found = {}
        with self._lock:
            for key in keys:
                if key in self._data:
                    self._data.move_to_end(key)
                    found[key] = self._data[key]
        return found

    def set_many(self, values: dict[str, Any]) -> None:
        with self._lock:
            for key, value in values.items():
                self._data[key] = value
                self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


#: after a failure, Redis is left alone this long: an outage costs one timeout, not one per request
RETRY_AFTER_SECONDS = 30


class RedisCache:
    def __init__(self, url: str, prefix: str = "govqms:cache:"):
        from redis import Redis

        self.prefix = prefix
        self.client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        self.resting_until = 0.0

    def _failed(self, err: Exception) -> None:
        log.warning("cache unavailable: %s", type(err).__name__)
        self.resting_until = time.monotonic() + RETRY_AFTER_SECONDS

    @property
    def resting(self) -> bool:
        return time.monotonic() < self.resting_until

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        if not keys or self.resting:
            return {}
        try:
            raw = self.client.mget([self.prefix + key for key in keys])
        except Exception as err:  # noqa: BLE001 (any failure of the cache is a miss)
            self._failed(err)
            return {}
        return {key: pickle.loads(value) for key, value in zip(keys, raw, strict=True) if value is not None}

    def set_many(self, values: dict[str, Any]) -> None:
        if not values or self.resting:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, value in values.items():
                pipe.set(self.prefix + key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), ex=TTL_SECONDS)
            pipe.execute()
        except Exception as err:  # noqa: BLE001
            self._failed(err)

    def clear(self) -> None:
        try:
            for key in self.client.scan_iter(self.prefix + "*", count=1000):
                self.client.delete(key)
        except Exception as err:  # noqa: BLE001
            log.warning("cache unavailable: %s", type(err).__name__)


def cache() -> MemoryCache | RedisCache:
    """The app's cache (made on first use)."""
    found = current_app.extensions.get("govqms_cache")
    if found is None:
        url = current_app.config.get("REDIS_URL")
        found = RedisCache(url) if url else MemoryCache()
        current_app.extensions["govqms_cache"] = found
    return found
