"""A live counter for long commands (poll, acceptance): on a terminal only.

One line on stderr, rewritten in place and wiped before any other output, so the
command's own lines stay clean; when stderr is not a terminal (a pipe, a log file,
cron) nothing is written. Hand-written because `click.progressbar` must own the loop,
and here the work reports as it goes.
"""

from __future__ import annotations

import sys
from typing import TextIO

import click

CLEAR = "\r\033[K"


class Counter:
    """`show(text)` on a terminal; `echo`/`warn` print a line after wiping the counter."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self._shown = False

    def show(self, text: str) -> None:
        if self.live:
            self.stream.write(CLEAR + text)
            self.stream.flush()
            self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.stream.write(CLEAR)
            self.stream.flush()
            self._shown = False

    def echo(self, line: str, err: bool = False) -> None:
        self.clear()
        click.echo(line, err=err)
