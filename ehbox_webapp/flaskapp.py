"""The Flask class both app factories build: the app and the embedded sandbox.

Werkzeug compiles each URL rule's builder with `ast.parse` when the rule is added. On
CPython 3.11 the AST converter keeps its recursion depth in state shared by all threads:
when two threads parse at once and a garbage collection runs a finalizer in between (the
interpreter may switch threads there), one of them fails with `SystemError: AST
constructor recursion depth mismatch` (python/cpython#106905). Apps built in threads at
once (a sandbox started by several threads, tests) then fail at random. Rules are added
one thread at a time; routing itself is untouched.

Werkzeug's `int` converter matches `\\d+`, which in Python is any Unicode digit: `/annexes/１`
(a full-width one) reached the view as annex 1. Here `int` is ASCII digits only.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

_ADDING = threading.Lock()


class AsciiIntegerConverter(IntegerConverter):
    """`<int:...>` of ASCII digits only (Werkzeug's takes any Unicode digit)."""

    regex = r"[0-9]+"


class OneAtATimeMap(Map):
    """A URL map whose rules are compiled by one thread at a time (see the module), with
    `int` matching ASCII digits only."""

    default_converters = {**Map.default_converters, "int": AsciiIntegerConverter}

    def add(self, rulefactory: Any) -> None:
        with _ADDING:
            super().add(rulefactory)


class App(Flask):
    url_map_class = OneAtATimeMap
