"""
moto's server dispatch, made cheaper per request (the answers are the same):

- Every request asks `moto.backends.list_of_moto_modules()` whether its host names a service, and that lists moto's
  package directory and stats each entry (about 150 stat calls a request, a fifth of a request's time in server
  mode). The package does not change while the server runs: the list is read once.
"""

from __future__ import annotations

from collections.abc import Iterable

from moto import backends

_modules: tuple[str, ...] | None = None


def apply() -> None:
    original = backends.list_of_moto_modules

    def list_of_moto_modules() -> Iterable[str]:
        global _modules
        if _modules is None:
            _modules = tuple(original())
        return _modules

    backends.list_of_moto_modules = list_of_moto_modules
