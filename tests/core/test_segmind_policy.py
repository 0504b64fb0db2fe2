"""The one retry decision of the Segmind client (core/segmind/transport.py), table-tested.

tests/core/test_segmind.py drives the same policy over real sockets against the fake Segmind; this
pins the table itself, so a change to what is retried shows up as one line here."""

from __future__ import annotations

import pytest

from core.errors import (
    ProviderAuthError,
    ProviderBadOutput,
    ProviderModerated,
    ProviderRateLimited,
    ProviderRejected,
    ProviderResultExpired,
    ProviderSubmitUncertain,
    ProviderUnavailable,
)
from core.segmind.transport import BILLED, BILLED_RESULT, SAFE


@pytest.mark.parametrize(
    ("status", "billed", "safe"),
    [(200, True, True), (201, True, False), (202, True, False), (204, True, False), (404, False, False), (500, False, False)],
)
def test_what_counts_as_success(status, billed, safe):
    assert BILLED.succeeded(status) is billed
    assert SAFE.succeeded(status) is safe


@pytest.mark.parametrize(
    ("error", "billed", "safe", "billed_result"),
    [
        (ProviderUnavailable("503"), True, True, True),
        (ProviderRateLimited("429"), True, True, True),
        # Sent, and maybe accepted: paying twice is worse than failing once.
        (ProviderSubmitUncertain("timeout after send"), False, False, False),
        (ProviderRejected("bad prompt"), False, False, False),
        (ProviderModerated("nsfw"), False, False, False),
        (ProviderAuthError("401"), False, False, False),
        # Storage can lag behind COMPLETED, and a proxy may answer a page: a paid image is asked for again.
        (ProviderResultExpired("404"), False, False, True),
        (ProviderBadOutput("not an image"), False, False, True),
    ],
)
def test_what_is_tried_again(error, billed, safe, billed_result):
    assert BILLED.retries(error) is billed
    assert SAFE.retries(error) is safe
    assert BILLED_RESULT.retries(error) is billed_result


def test_only_billed_requests_are_billed():
    assert BILLED.billed and not SAFE.billed and not BILLED_RESULT.billed
