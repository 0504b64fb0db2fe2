"""The context menu's notice when it edits only some of a message's attachments."""

from __future__ import annotations

from cogs.ui.messages import images_left_out


def test_nothing_left_out_says_nothing():
    assert images_left_out(0, 0, "FLUX.2 Pro", 8) is None


def test_each_reason_is_named_with_its_count():
    assert images_left_out(1, 0, "FLUX.2 Pro", 8) == (
        "1 of the message's attachments was left out: 1 is not a PNG, JPEG or WebP image."
    )
    assert images_left_out(0, 3, "FLUX.2 Pro", 8) == (
        "3 of the message's attachments were left out: 3 beyond the first 8, as FLUX.2 Pro takes at most 8"
        " reference images."
    )
    assert images_left_out(2, 1, "FLUX.2 Klein 9B", 4).startswith("3 of the message's attachments were left out: 2 are")
