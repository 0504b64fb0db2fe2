"""describe_error: the sentence of each error, from its match or its table of templates."""

from __future__ import annotations

from discord import app_commands

from cogs.ui.messages import NOT_CHARGED, TEXTS, UNEXPECTED, describe_error
from core import errors as e


def test_a_template_is_filled_and_braces_in_the_values_stay_as_they_are():
    text = describe_error(e.InvalidRequest("seed", "must be {below} 10"))
    assert text == f"The option `seed` must be {{below}} 10. {NOT_CHARGED}"
    assert describe_error(e.JobCancelled(5, price=4)).startswith("Cancelled before it was sent")
    assert "4 credits are free again" in describe_error(e.JobCancelled(5, price=4))


def test_the_most_specific_class_wins_and_a_subclass_without_a_row_takes_its_parents():
    assert describe_error(e.ProviderRateLimited("busy")) == TEXTS[e.ProviderRateLimited]
    assert describe_error(e.ProviderUnavailable("down")) == TEXTS[e.ProviderError]
    assert "Segmind refused the request: bad size" in describe_error(e.ProviderRejected("bad size"))
    assert describe_error(app_commands.NoPrivateMessage()) == TEXTS[app_commands.NoPrivateMessage]
    assert "Manage Server" in describe_error(app_commands.MissingPermissions(["manage_guild"]))


def test_an_unknown_error_gets_the_generic_line():
    assert describe_error(ValueError("x")) == UNEXPECTED
    assert describe_error(e.BotError("x")) == UNEXPECTED
