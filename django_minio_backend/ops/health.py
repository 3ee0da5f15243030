"""The health of every configured server: the core's probe, for many aliases at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..conf.aliases import Alias
from ..core.health import MinioServerStatus, probe


def probe_aliases(aliases: list[Alias]) -> list[tuple[Alias, MinioServerStatus]]:
    """Probe every alias at once, so the total wait is one timeout, not one per alias."""
    if not aliases:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(aliases))) as pool:
        statuses = list(pool.map(lambda alias: probe(alias.options), aliases))
    return list(zip(aliases, statuses, strict=True))
