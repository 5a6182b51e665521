"""Fixed-window request counters that hold under concurrency, shared by every web process.

With Redis as the cache, a window is one key moved by INCR (atomic) and given its expiry on first
use. Without it, a window is a ThrottleWindow row moved by conditional UPDATEs, so two requests can
never both take the last slot. The API throttle and the anonymous throttle both count here.
"""

import time
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import IntegrityError, transaction
from django.db.models import F

from outreach.models import ThrottleWindow


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    wait: float  # seconds until the window ends and the count starts again
    flagged: bool = False  # peek(..., flag=): whether that flag is raised


def _window_end(duration: int, now: float) -> int:
    return (int(now // duration) + 1) * duration


def _redis():
    """The default cache when it is Redis. Its redis-py connection (`_cache.get_client`) is used directly:
    Django's cache API has no increment that also sets the expiry, atomically, in one round trip."""
    backend = caches["default"]
    return backend if isinstance(backend, RedisCache) else None


def hit(key: str, limit: int, duration: int, *, now: float | None = None) -> Verdict:
    """Count one request against `limit` per `duration` seconds; refused once the window is full."""
    now = time.time() if now is None else now
    end = _window_end(duration, now)
    backend = _redis()
    if backend is not None:
        name = backend.make_and_validate_key(f"ratelimit:{key}:{end}")
        pipe = backend._cache.get_client(write=True).pipeline()
        pipe.incr(name)
        pipe.expire(name, duration + 5, nx=True)
        count, _ = pipe.execute()
        return Verdict(count <= limit, end - now)
    return Verdict(_hit_database(key, limit, end), end - now)


def peek(key: str, limit: int, duration: int, *, flag: str | None = None, now: float | None = None) -> Verdict:
    """Whether the window still has room, without counting; with `flag`, whether that flag is raised too.
    One round trip either way (an MGET, or one query)."""
    now = time.time() if now is None else now
    end = _window_end(duration, now)
    backend = _redis()
    if backend is not None:
        names = [backend.make_and_validate_key(f"ratelimit:{key}:{end}")]
        if flag:
            names.append(backend.make_and_validate_key(f"ratelimit-flag:{flag}"))
        values = backend._cache.get_client().mget(names)
        return Verdict(int(values[0] or 0) < limit, end - now, bool(flag and values[1]))
    flag_key = f"flag:{flag}" if flag else None
    rows = {
        row_key: (window_end, count)
        for row_key, window_end, count in ThrottleWindow.objects.filter(
            key__in=[key, flag_key] if flag_key else [key]
        ).values_list("key", "window_end", "count")
    }
    window_end, count = rows.get(key, (0, 0))
    flagged = bool(flag_key) and rows.get(flag_key, (0, 0))[0] > now
    return Verdict((count if window_end == end else 0) < limit, end - now, flagged)


def raise_flag(flag: str, seconds: int, *, now: float | None = None) -> None:
    """A marker that expires by itself after `seconds` (e.g. "this address sent a wrong token")."""
    now = time.time() if now is None else now
    backend = _redis()
    if backend is not None:
        backend._cache.get_client(write=True).set(
            backend.make_and_validate_key(f"ratelimit-flag:{flag}"), 1, ex=seconds
        )
        return
    ThrottleWindow.objects.update_or_create(key=f"flag:{flag}", defaults={"window_end": int(now) + seconds, "count": 1})


def _hit_database(key: str, limit: int, end: int) -> bool:
    windows = ThrottleWindow.objects.filter(key=key)
    for _ in range(5):
        if windows.filter(window_end=end, count__lt=limit).update(count=F("count") + 1):
            return True
        # The window is full, or the row still holds an older window, or there is no row yet.
        if windows.filter(window_end__lt=end).update(window_end=end, count=1):
            return True
        if windows.filter(window_end=end, count__gte=limit).exists():
            return False
        if windows.filter(window_end=end).exists():
            continue  # created by another request since the first UPDATE: count against it
        try:
            with transaction.atomic():
                ThrottleWindow.objects.create(key=key, window_end=end, count=1)
            return True
        except IntegrityError:
            continue  # another request created the row first: count against it
    return False


def purge_windows(*, older_than: int = 3600) -> int:
    """Delete database windows that ended more than `older_than` seconds ago."""
    deleted, _ = ThrottleWindow.objects.filter(window_end__lt=time.time() - older_than).delete()
    return deleted
