"""The eHealthBox platform's own message rules, as eHealth documents them: the sandbox's copy.

The sandbox plays the platform, so it states the platform's limits here instead of importing
the app's (`ehbox_webapp/mailbox/rules.py` holds the app's choices, e.g. the PublicationIds it
issues). Were the app to get a limit wrong, the sandbox still refuses what eHealth refuses, and
a test sees it. Recipients (box identifiers, qualities, check digits) are in `recipients.py`.

Sources: the eHealthBox v3 XSDs (publication and consultation protocol, core, v3.0.7) as
docs/ehealth-platform.md §3.2-§3.6 quotes them, and the cookbook use cases it cites. Every
constant says where it comes from; "INFERRED" marks what no public document states (the REST
shape modelled on the SOAP contract, or a guard of the sandbox's own).

Lengths count characters (Unicode code points, as XML Schema's length facets do). Numbers are
ASCII digits only: `str.isdigit()` and `\\d` take any Unicode digit, eHealth does not. A
pattern is always checked against the whole value (`fullmatch`), never its beginning.
"""

from __future__ import annotations

import re

# --- identifiers of a publication and of a message ---------------------------------------------
# PublicationMessageType/@PublicationId: chosen by the sender, 1-13 characters (publication XSD
# v3). Which characters: visible ASCII (0x21-0x7E), INFERRED. The app issues letters and digits
# only; the platform takes more, and so does the sandbox.
PUBLICATION_ID_MAX = 13
PUBLICATION_ID = re.compile(rf"[\x21-\x7e]{{1,{PUBLICATION_ID_MAX}}}")
# MessageId: system-generated, exactly 13 characters [a-zA-Z0-9] (consultation XSD v3).
MESSAGE_ID_LENGTH = 13
MESSAGE_ID = re.compile(rf"[A-Za-z0-9]{{{MESSAGE_ID_LENGTH}}}")

# --- what a message holds (publication XSD v3, PublicationMessageType) -------------------------
TITLE_MAX = 400  # Document/Title 1-400, never encrypted (and ContentInfo/Title, consultation)
DOWNLOAD_FILE_NAME_MAX = 255  # Document/DownloadFileName and Annex/DownloadFileName, 1-255
MIME_TYPE_MAX = 255  # Document/MimeType and Annex/MimeType, 1-255
APPLICATION_NAME_MAX = 25  # ContentSpecification/ApplicationName, 1-25
CUSTOM_METAS_MAX = 100  # ContentContext/CustomMeta maxOccurs=100
CUSTOM_META_TEXT_MAX = 250  # CustomMeta/Key and CustomMeta/Value, 1-250 each
COPY_MAIL_TO_MAX = 80  # CopyMailTo, 1-80 characters each
# ContentSpecification/ContentType is DOCUMENT | NEWS | ACKNOWLEDGMENT | ERROR (XSD v3); that a
# sender may publish only the first two (the platform writes the others) is INFERRED.
SENDABLE_CONTENT_TYPES = ("DOCUMENT", "NEWS")
# The free-information Table/@Title: the XSD excerpt gives no length; DocumentTitle's 400 is
# applied, INFERRED.
TABLE_TITLE_MAX = TITLE_MAX

# Guards of the modelled REST contract, no XSD length (INFERRED): a destination's id, type,
# subType and quality; a Digest (base64 of SHA-256 is 44 characters); the name of the multipart
# part that carries a document or annex (`contentRef`).
DESTINATION_FIELD_MAX = 100
DIGEST_MAX = 255
CONTENT_REF_MAX = 100

# --- folders and calls (consultation XSD v3) -----------------------------------------------------
FOLDERS = ("INBOX", "SENTBOX", "BININBOX", "BINSENTBOX")  # getMessagesList Source
# The only moves the platform allows (cookbook UC-405, CONFIRMED).
ALLOWED_MOVES = frozenset(
    {
        ("INBOX", "BININBOX"),
        ("BININBOX", "INBOX"),
        ("SENTBOX", "BINSENTBOX"),
        ("BINSENTBOX", "SENTBOX"),
    }
)
# At most 100 messages per call: getMessagesList EndIndex defaults to 100, moveMessage and
# deleteMessage take MessageId maxOccurs=100 (XSD v3; cookbook UC-401).
MAX_MESSAGES_PER_CALL = 100
# StartIndex/EndIndex are whole numbers from 1, written in ASCII digits (XSD v3: StartIndex >= 1).
# At most 12 digits is the sandbox's own guard (INFERRED; no index goes near it).
_INDEX = re.compile(r"[0-9]{1,12}")


def is_publication_id(value: object) -> bool:
    """`value` is a whole PublicationId the platform takes: 1-13 visible ASCII characters."""
    return isinstance(value, str) and PUBLICATION_ID.fullmatch(value) is not None


def is_message_id(value: object) -> bool:
    """`value` is a whole MessageId: exactly 13 ASCII letters and digits."""
    return isinstance(value, str) and MESSAGE_ID.fullmatch(value) is not None


def is_index(value: object, low: int = 1) -> bool:
    """`value` is a list index: ASCII digits only, a whole number from `low`."""
    return isinstance(value, str) and _INDEX.fullmatch(value) is not None and int(value) >= low
