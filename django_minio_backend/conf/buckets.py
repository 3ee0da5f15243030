"""What every declared bucket should be, read from the aliases: no request.

``plan_buckets()`` says, for each (endpoint, bucket) the MinIO aliases declare, whether it is
public (anonymous GetObject only, never listing) or private, and which policy hook applies.
``ops/buckets.py`` brings the server in line with this plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError
from .aliases import Alias, storage_aliases
from .options import StorageOptions


@dataclass
class BucketSpec:
    """The wanted state of one bucket on one endpoint."""

    endpoint: str
    bucket: str
    public: bool | None  # None: not declared, only named by a policy hook
    options: StorageOptions = field(repr=False)
    aliases: list[str] = field(default_factory=list)
    hook: dict[str, Any] | None = None

    @property
    def visibility(self) -> str:
        return {True: "public", False: "private", None: "undeclared"}[self.public]


def plan_buckets(storages: Mapping[str, Any] | None = None) -> list[BucketSpec]:
    """What every declared bucket should be (default: settings.STORAGES). No I/O.

    Raises ConfigurationError when an alias's options do not parse, or when two aliases on one
    endpoint disagree about whether a bucket is public (e.g. the static bucket listed as private).
    """
    return plan_for(storage_aliases(storages))


def plan_for(aliases: list[Alias]) -> list[BucketSpec]:
    """What the buckets of ``aliases`` should be (see :func:`plan_buckets`). No I/O."""
    specs: dict[tuple[str, str], BucketSpec] = {}
    for alias in aliases:
        for bucket, public in alias.buckets().items():
            spec = specs.setdefault(
                (alias.endpoint, bucket), BucketSpec(alias.endpoint, bucket, public, alias.options)
            )
            if spec.public != public:
                raise ConfigurationError(
                    f"Bucket {bucket!r} on {alias.endpoint} is {spec.visibility} for "
                    f"{', '.join(repr(a) for a in spec.aliases)} but {'public' if public else 'private'} "
                    f"for {alias.name!r}. Declare it the same way in every alias "
                    "(the static files bucket is always public)."
                )
            if alias.name not in spec.aliases:
                spec.aliases.append(alias.name)
    for alias in aliases:
        for bucket, policy in alias.options.policy_hooks:
            undeclared = BucketSpec(alias.endpoint, bucket, None, alias.options, [alias.name])
            spec = specs.setdefault((alias.endpoint, bucket), undeclared)
            spec.hook = policy  # each hook replaces the whole policy, so the last one wins
    return list(specs.values())
