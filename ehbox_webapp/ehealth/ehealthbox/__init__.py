"""eHealthBox: client, models, identifiers and errors (no web framework here).

The REST contract is modelled on the SOAP v3 semantics (see `openapi.yaml`);
its wire mapping is confined to `rest.py`. The modules import one another in one
direction only (models <- identifiers, models <- errors <- rest <- client).

The names below are loaded on first use (PEP 562). That keeps
`import ehbox_webapp.ehealth.ehealthbox.identifiers` from loading `client.py`
and `rest.py`: the sandbox eHealthBox uses the identifier rules but must stay
independent of the client's mapping, so that it remains the reference of the
modelled contract when `rest.py` is adapted. `_EXPORTS` is the one list of them.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")

_EXPORTS = {
    "client": (
        "Download",
        "EhealthboxClient",
    ),
    "errors": (
        "BadRequest",
        "DigestMismatch",
        "EhealthboxError",
        "Forbidden",
        "InvalidBox",
        "InvalidDestination",
        "InvalidMessageId",
        "InvalidPaging",
        "MessageTooLarge",
        "MoveNotAllowed",
        "NotFound",
        "NotTheSender",
        "QualityNotAllowed",
        "RecipientsOutOfOffice",
        "SendOutcomeUnknown",
        "Unauthorized",
        "Unavailable",
    ),
    "identifiers": (
        "QUALITIES",
        "check_recipient",
        "is_valid_cbe",
        "is_valid_ehp",
        "is_valid_inss",
        "is_valid_nihii",
        "validate_recipient",
    ),
    "models": (
        "ACK_TYPES",
        "ALLOWED_MOVES",
        "CONTENT_TYPES",
        "FOLDERS",
        "MAX_MESSAGE_BYTES",
        "OTHER_SIDE",
        "Acknowledgment",
        "AcknowledgmentStatus",
        "Annex",
        "Attachment",
        "BoxId",
        "BoxInfo",
        "ContentSpecification",
        "CustomMeta",
        "Document",
        "ErrorMessage",
        "FreeInformation",
        "Message",
        "MessagePage",
        "MessageSummary",
        "NewMessage",
        "OutOfOffice",
        "Recipient",
        "RecipientOutcome",
        "Sender",
        "SendResult",
        "TableRow",
        "new_publication_id",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = ["OPENAPI_PATH", *_MODULE_OF]  # noqa: PLE0605  (built from _EXPORTS)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))
