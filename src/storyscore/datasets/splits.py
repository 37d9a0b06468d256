"""Deterministic, seedable, stratified train/valid/test splits.

Each id gets a sort key ``sha256(f"{seed}:{id}")``; within each label the ids are ordered by that key
and cut by the requested fractions (largest-remainder rounding, so every split's count per label is
within one of its exact share). The assignment of an id depends only on the seed, its own label group
and its id: stable across runs, machines, Python versions and input order (no ``hash()``, no global
RNG state).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

DEFAULT_FRACTIONS: dict[str, float] = {"train": 0.8, "valid": 0.1, "test": 0.1}

T = TypeVar("T")


def _key(seed: int | str, item_id: str) -> bytes:
    return hashlib.sha256(f"{seed}:{item_id}".encode()).digest()


def _counts(n: int, fractions: Mapping[str, float]) -> dict[str, int]:
    """Largest-remainder apportionment of n items to the splits (ties go to the earlier split)."""
    total = sum(fractions.values())
    exact = {name: n * f / total for name, f in fractions.items()}
    counts = {name: int(v) for name, v in exact.items()}
    order = sorted(fractions, key=lambda name: (-(exact[name] - counts[name]), list(fractions).index(name)))
    for name in order[: n - sum(counts.values())]:
        counts[name] += 1
    return counts


def stratified_split(
    ids: Sequence[str],
    labels: Sequence[Hashable] | None = None,
    fractions: Mapping[str, float] | None = None,
    seed: int | str = 0,
) -> dict[str, str]:
    """Map each id to a split name, stratified by label (``labels=None``: one stratum).

    ``fractions`` maps split names to non-negative weights (normalised; default 80/10/10
    train/valid/test). Ids must be unique.
    """
    fr = dict(DEFAULT_FRACTIONS if fractions is None else fractions)
    if not fr or any(f < 0 for f in fr.values()) or sum(fr.values()) <= 0:
        raise ValueError(f"fractions must be non-negative and not all zero, got {fr}")
    if labels is not None and len(labels) != len(ids):
        raise ValueError(f"{len(ids)} ids but {len(labels)} labels")
    if len(set(ids)) != len(ids):
        raise ValueError("ids must be unique")
    groups: dict[Hashable, list[str]] = {}
    for i, item_id in enumerate(ids):
        groups.setdefault(None if labels is None else labels[i], []).append(str(item_id))
    out: dict[str, str] = {}
    for members in groups.values():
        members.sort(key=lambda x: _key(seed, x))
        pos = 0
        for name, count in _counts(len(members), fr).items():
            for item_id in members[pos : pos + count]:
                out[item_id] = name
            pos += count
    return out


def assign_splits(
    items: Sequence[T],
    fractions: Mapping[str, float] | None = None,
    seed: int | str = 0,
    stratify: bool = True,
) -> list[T]:
    """Copies of dataclass records (``id``, ``label``, ``split`` fields) with ``split`` filled in."""
    ids = [it.id for it in items]  # type: ignore[attr-defined]
    labels = [it.label for it in items] if stratify else None  # type: ignore[attr-defined]
    mapping = stratified_split(ids, labels, fractions, seed)
    return [dataclasses.replace(it, split=mapping[it.id]) for it in items]  # type: ignore[attr-defined,type-var]
