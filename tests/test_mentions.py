"""The mention settings the cogs share serialise to "ping nobody" (the e2e teardown checks the wire)."""

from __future__ import annotations

import pytest

from cogs import errors, presenter


@pytest.mark.parametrize("module", [errors, presenter])
def test_no_mentions_pings_nobody(module):
    assert module.NO_MENTIONS.to_dict() == {"parse": []}


def test_the_requester_ping_names_only_the_requester():
    wire = presenter._only_user(42).to_dict()
    assert wire == {"parse": [], "users": [42]}
