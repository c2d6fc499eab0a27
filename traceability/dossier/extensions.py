"""Dossier sections contributed by apps above `traceability` (DESIGN.md §1: the dossier may not
import them). An app registers a *provider* from its `AppConfig.ready()`:

    extensions.register(provider)   # provider(product) -> data.ExtraSection

Each provider gathers its section in a fixed number of queries and returns plain strings (title,
clause, header, rows), so the selector stays the only step that touches the database and the
renderer prints every registered section the same way — as numbered sub-sections of one
"Post-release records" section. The sections are part of `DossierData`, hence of its data hash.
"""

from __future__ import annotations

from collections.abc import Callable

from traceability.dossier import data as d

Provider = Callable[[object], d.ExtraSection]
_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a section provider (registering the same one twice has no effect)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def unregister(provider: Provider) -> None:
    if provider in _PROVIDERS:
        _PROVIDERS.remove(provider)


def providers() -> tuple[Provider, ...]:
    return tuple(_PROVIDERS)


def gather(product) -> tuple[d.ExtraSection, ...]:
    """Every registered section of `product`, in registration order."""
    return tuple(provider(product) for provider in _PROVIDERS)
