import logging

from core.logs import DropInapplicable, RedactingFormatter
from core.snowflake import snowflake_time

TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAx.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789"


def fmt(secrets):
    return RedactingFormatter("%(message)s", secrets)


def test_a_secret_is_redacted_as_a_whole_token():
    assert fmt([TOKEN]).redact(f"Authorization: Bot {TOKEN}") == "Authorization: Bot [redacted]"


def test_a_secret_at_the_end_of_a_sentence_is_redacted():
    assert fmt([TOKEN]).redact(f"the token was {TOKEN}.") == "the token was [redacted]."
    assert fmt([TOKEN]).redact(f"'{TOKEN}'") == "'[redacted]'"


def test_a_secret_inside_a_longer_token_is_left_alone():
    assert fmt(["abcdefgh12"]).redact("xabcdefgh12y abcdefgh12") == "xabcdefgh12y [redacted]"


def test_short_placeholders_never_redact_words():
    assert fmt(["P", "e", "short"]).redact("PyNaCl is not installed, short") == "PyNaCl is not installed, short"


def test_interaction_tokens_in_webhook_urls_are_redacted():
    text = (
        "PATCH https://discord.com/api/v10/webhooks/1100000000000000001/aW50ZXJhY3Rpb246MTIzNDU2Nzg5/messages/@original "
        "POST https://discord.com/api/v10/interactions/1200000000000000099/aW50ZXJhY3Rpb246OTg3NjU0MzIx/callback"
    )
    out = fmt([]).redact(text)
    assert "aW50ZXJhY3Rpb24" not in out
    assert "/webhooks/1100000000000000001/[redacted]/messages" in out
    assert "/interactions/1200000000000000099/[redacted]/callback" in out


def test_token_fields_of_gateway_payloads_are_redacted():
    text = "WebSocket Event: {'op': 0, 'd': {'token': 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5', 'id': '12'}}"
    assert fmt([]).redact(text) == "WebSocket Event: {'op': 0, 'd': {'token': '[redacted]', 'id': '12'}}"
    assert fmt([]).redact('{"token": "aW50ZXJhY3Rpb246MTIzNDU2Nzg5"}') == '{"token": "[redacted]"}'


def test_voice_warnings_are_dropped_and_other_warnings_kept():
    def record(msg, level=logging.WARNING):
        return logging.LogRecord("discord.client", level, __file__, 1, msg, None, None)

    dropper = DropInapplicable()
    assert not dropper.filter(record("PyNaCl is not installed, voice will NOT be supported"))
    assert not dropper.filter(record("davey is not installed, voice will NOT be supported"))
    assert dropper.filter(record("Shard ID None heartbeat blocked for more than 10 seconds."))


def test_snowflake_time_is_the_creation_time():
    # Discord's documented example: 175928847299117063 was created at 2016-04-30 11:18:25.796 UTC.
    assert abs(snowflake_time(175928847299117063) - 1462015105.796) < 1e-6
