"""The /api/v1 OpenAPI document, read once from openapi.yaml beside this module."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")


@functools.cache
def openapi_document() -> dict:
    return yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
