"""Whether a user can send encrypted (`mailbox.encryption`), on an eHealthBox in memory.

The keys and the key directory are stand-ins that answer as the real ones do for a box:
a certificate list or `NoEncryptionKey`/`DirectoryUnavailable`, a signing identity or
`NoKeystore`.
"""

from __future__ import annotations

import pytest
from fake_ehealthbox import FakeEhealthbox

from ehbox_webapp.ehealth.ehealthbox.models import BoxId
from ehbox_webapp.ehealth.etee.directory import DirectoryUnavailable, NoEncryptionKey
from ehbox_webapp.ehealth.etee.keys import NoKeystore
from ehbox_webapp.mailbox.actions import Mailbox
from ehbox_webapp.mailbox.encryption import (
    NO_KEYSTORE,
    NO_PUBLISHED_KEY,
    NOT_SET_UP,
    PROBLEMS,
    encryption_problem,
)

ALICE = BoxId("85071212390", "INSS", "DOCTOR")


class Directory:
    """The key directory: `failure` raised for every look-up, else one certificate."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.failure, self.asked = failure, []

    def for_box(self, box):
        self.asked.append(box)
        if self.failure is not None:
            raise self.failure
        return ["certificate"]


class Keys:
    """The site's keystores: those of `boxes` sign."""

    def __init__(self, *boxes: BoxId) -> None:
        self.boxes, self.asked = boxes, []

    def signing_identity_for(self, box):
        self.asked.append(box)
        if box not in self.boxes:
            raise NoKeystore(box, "no keystore of this box here")
        return "identity"


def mailbox(keys=None, directory=None) -> Mailbox:
    return Mailbox(FakeEhealthbox().box(ALICE, "Alice Peeters"), keys=keys, directory=directory)


def never() -> BoxId:
    raise AssertionError("the user's box is not asked when encryption is not set up")


def test_the_codes_are_stable():
    assert PROBLEMS == ("not-set-up", "no-published-key", "no-keystore")


def test_offered_when_the_box_has_a_published_key_and_a_keystore_that_signs():
    keys, directory = Keys(ALICE), Directory()
    box = mailbox(keys, directory)
    assert encryption_problem(box, box.my_box) is None  # the box's own address, from the fake
    assert directory.asked == [ALICE] and keys.asked == [ALICE]
    assert encryption_problem(box, ALICE) is None  # or given as is


@pytest.mark.parametrize(
    "keys, directory", [(None, None), (Keys(ALICE), None), (None, Directory())]
)
def test_not_set_up_without_keys_or_directory_and_nothing_asked(keys, directory):
    assert encryption_problem(mailbox(keys, directory), never) == NOT_SET_UP


def test_a_box_without_a_published_key_cannot_send_encrypted():
    keys = Keys(ALICE)
    directory = Directory(NoEncryptionKey(ALICE, "no certificate published"))
    assert encryption_problem(mailbox(keys, directory), ALICE) == NO_PUBLISHED_KEY
    assert keys.asked == []


def test_a_user_without_a_keystore_here_cannot_send_encrypted():
    assert encryption_problem(mailbox(Keys(), Directory()), ALICE) == NO_KEYSTORE


def test_a_directory_that_does_not_answer_leaves_the_option_offered_the_keystore_still_checked():
    down = DirectoryUnavailable("connection refused")
    assert encryption_problem(mailbox(Keys(ALICE), Directory(down)), ALICE) is None
    assert encryption_problem(mailbox(Keys(), Directory(down)), ALICE) == NO_KEYSTORE


@pytest.mark.parametrize("me", [None, lambda: None])
def test_a_box_that_cannot_be_asked_now_leaves_the_option_offered(me):
    keys, directory = Keys(), Directory()
    assert encryption_problem(mailbox(keys, directory), me) is None
    assert keys.asked == [] and directory.asked == []
