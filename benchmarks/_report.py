"""Markdown for compare.py: a summary, then one table per workload, then the environment."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    about: str
    big: bool = False


WORKLOADS = (
    Workload(
        "save_new",
        "Small save, new name (1 KiB)",
        "Each backend's no-overwrite semantics: this package and 4.x by default, django-storages "
        "with `file_overwrite=False`. Every name is new, so no renaming happens.",
    ),
    Workload(
        "save_overwrite",
        "Overwrite save, same name (small)",
        "Each backend's replace semantics: `replace_existing=True` (this package, 4.x), "
        "`file_overwrite=True` (django-storages). The check reads the object back afterwards.",
    ),
    Workload("exists_hit", "exists() on an existing object", "One call per saved object."),
    Workload("exists_miss", "exists() on a missing object", "One call per missing name."),
    Workload("size", "size()", "One call per saved object."),
    Workload(
        "url_private",
        "url(), private bucket, no URL cache",
        "A presigned GET URL per call, over a rotating set of names. Every url() workload makes one "
        "unmeasured call first, so client set-up is not counted, and afterwards downloads the first "
        "and last URL it got, anonymously, to check they work.",
    ),
    Workload(
        "url_cached_first",
        "url(), private bucket, URL cache on: first call per name",
        "`MINIO_URL_CACHING_ENABLED` with Django's locmem cache (set in OPTIONS and at the "
        "top level, where 4.x reads it). django-storages has no URL cache.",
    ),
    Workload(
        "url_cached_repeat",
        "url(), private bucket, URL cache on: repeat calls",
        "The same names again, so every call can be answered from the cache.",
    ),
    Workload("url_public", "url(), public bucket", "A plain (unsigned) URL per call."),
    Workload(
        "listdir",
        "listdir() of a folder with {listed} files and 5 subfolders",
        "The check compares the returned folders and files with what was saved.",
    ),
    Workload(
        "collectstatic_first",
        "collectstatic, first run ({static} files, empty bucket)",
        "`STORAGES['staticfiles']` on each backend; files generated in `STATICFILES_DIRS`.",
    ),
    Workload(
        "collectstatic_second",
        "collectstatic, second run (nothing changed)",
        "Django's collectstatic skips files whose stored copy is newer; how many requests that takes "
        "is up to the backend.",
    ),
    Workload(
        "big_save",
        "{mib} MiB save",
        "A fresh process per contender saves a {mib} MiB file from disk (a Django `File`). Peak RSS "
        "increase = VmHWM after the save minus VmHWM before it (imports and the client already "
        "loaded).",
        big=True,
    ),
    Workload(
        "big_read",
        "{mib} MiB read",
        "A fresh process per contender opens the object and reads it in 1 MiB chunks, checking "
        "its SHA-256. Peak RSS increase measured as for the save.",
        big=True,
    ),
)


def cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def fmt_ms(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def methods_text(methods: dict[str, int], ops: int) -> str:
    if not methods:
        return "none"
    per_op = ops or 1
    parts = []
    for method, count in sorted(methods.items(), key=lambda item: (-item[1], item[0])):
        share = count / per_op
        parts.append(f"{method} x{share:g}" if share == int(share) else f"{method} x{share:.2f}")
    return ", ".join(parts)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def result_text(entry: dict[str, Any]) -> str:
    if entry.get("unsupported"):
        return f"not supported: {entry['unsupported']}"
    if entry.get("error"):
        return f"**FAILED**: {entry['error']}"
    return "ok"


def summary_cell(workload: Workload, entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "not run"
    if entry.get("unsupported"):
        return "n/a"
    if entry.get("error"):
        return "FAILED"
    if workload.big:
        return f"{entry['seconds']:.2f} s, +{entry['peak_rss_increase_mib']:.0f} MiB RSS"
    ops = entry["ops"] or 1
    times = entry["times_ms"]
    return f"{entry['requests'] / ops:g} req, {fmt_ms(statistics.fmean(times)) if times else '-'} ms"


def small_table(workload: Workload, rows: list[tuple[str, dict[str, Any] | None]]) -> list[str]:
    per_file = workload.key.startswith("collectstatic")
    head = "| Contender | ops | requests/op | requests by kind, per op | mean ms/op | p50 ms | p95 ms |"
    sep = "|---|---:|---:|---|---:|---:|---:|"
    if per_file:
        head += " requests/file |"
        sep += "---:|"
    lines = [head + " result |", sep + "---|"]
    for label, entry in rows:
        if entry is None:
            lines.append(f"| {label} | | | | | | |{' |' if per_file else ''} not run |")
            continue
        ops, times = entry.get("ops", 0), entry.get("times_ms") or []
        req = f"{entry['requests'] / ops:g}" if ops and "requests" in entry else "-"
        methods = methods_text(entry.get("methods") or {}, ops)
        if times:
            stats = f"{fmt_ms(statistics.fmean(times))} | {fmt_ms(percentile(times, 50))} | {fmt_ms(percentile(times, 95))}"
        else:
            stats = "- | - | -"
        line = f"| {label} | {ops} | {req} | {cell(methods)} | {stats} |"
        if per_file:
            files = entry.get("files") or 0
            line += f" {entry['requests'] / files:.2g} |" if files and ops and "requests" in entry else " - |"
        lines.append(line + f" {cell(result_text(entry))} |")
    return lines


def big_table(rows: list[tuple[str, dict[str, Any] | None]]) -> list[str]:
    lines = [
        "| Contender | requests | requests by kind | seconds | MiB/s | peak RSS increase (MiB) | result |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for label, entry in rows:
        if entry is None:
            lines.append(f"| {label} | | | | | | not run |")
            continue
        rate = f"{entry['mib_per_s']:.0f}" if entry.get("mib_per_s") else "-"
        lines.append(
            f"| {label} | {entry.get('requests', '-')} | {cell(methods_text(entry.get('methods') or {}, 1))} "
            f"| {entry.get('seconds', 0):.2f} | {rate} | {entry.get('peak_rss_increase_mib', 0):.1f} "
            f"| {cell(result_text(entry))} |"
        )
    return lines


def render(
    results: dict[str, dict[str, dict[str, Any]]],
    labels: dict[str, str],
    environment: list[str],
    notes: list[str],
    variants: dict[str, str] | None = None,
    sizes: dict[str, int] | None = None,
) -> str:
    """``results[contender][workload]`` is a worker entry (or missing).

    ``labels`` are the contenders (summary columns); ``variants`` only add rows to the tables of
    the workloads they ran.
    """
    contenders = list(labels)
    variants = variants or {}
    sizes = {"mib": 256, "static": 300, "listed": 200, **(sizes or {})}
    out = ["# Side-by-side benchmark: this package vs django-minio-backend 4.x vs django-storages", ""]
    out += [*notes, ""]
    out += ["## Summary", "", "| Workload | " + " | ".join(labels[c] for c in contenders) + " |"]
    out.append("|---|" + "---|" * len(contenders))
    for workload in WORKLOADS:
        cells = [summary_cell(workload, results.get(c, {}).get(workload.key)) for c in contenders]
        if all(value == "not run" for value in cells):
            continue
        out.append(f"| {workload.title.format(**sizes)} | " + " | ".join(cells) + " |")
    out.append("")
    for workload in WORKLOADS:
        rows = [(labels[c], results.get(c, {}).get(workload.key)) for c in contenders]
        rows += [
            (label, results[key][workload.key])
            for key, label in variants.items()
            if workload.key in results.get(key, {})
        ]
        if all(entry is None for _, entry in rows):
            continue
        out += [f"## {workload.title.format(**sizes)}", "", workload.about.format(**sizes), ""]
        out += big_table(rows) if workload.big else small_table(workload, rows)
        out.append("")
    out += ["## Environment", "", *environment, ""]
    return "\n".join(out)
