"""Log lines an operator can read and share: secrets redacted, warnings that do not apply dropped.

Redaction replaces a secret only where it stands as a whole token (not inside a longer run of token
characters) and only when it is long enough to be a real secret: a placeholder one letter long
once turned "PyNaCl" into "P[redacted]NaCl". Interaction tokens travel in webhook URLs
(`/webhooks/<app>/<token>`, `/interactions/<id>/<token>/callback`) that discord.py logs at DEBUG;
each grants 15 minutes of posting as the bot in that channel, so they are redacted too, and so is
the `"token"` field of the gateway payloads discord.py logs at DEBUG.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# Real Discord tokens are ~70 characters and Segmind keys ~40; anything shorter than this is a
# placeholder, and redacting it would mangle ordinary words.
MIN_SECRET_LENGTH = 8
REDACTED = "[redacted]"
# A secret counts as whole when no token character touches it; a dot may end a sentence, so it does not
# count (the secret itself may contain dots: Discord tokens do).
_TOKEN_CHARS = r"A-Za-z0-9_\-"
_WEBHOOK_TOKEN = re.compile(r"(/(?:webhooks|interactions)/\d+/)([A-Za-z0-9_\-.]{16,})")
# The same tokens inside gateway payloads (INTERACTION_CREATE), which discord.py logs at DEBUG.
_TOKEN_FIELD = re.compile(r"""(['"]token['"]\s*:\s*['"])([^'"]{16,})""")

# discord.py warns at start about voice support the bot never uses.
_INAPPLICABLE = ("PyNaCl is not installed", "davey is not installed", "voice will NOT be supported")


class RedactingFormatter(logging.Formatter):
    """Formats log lines with every secret replaced, whatever logged it (tracebacks included)."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        words = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._secrets = (
            re.compile(f"(?<![{_TOKEN_CHARS}])(?:{'|'.join(map(re.escape, words))})(?![{_TOKEN_CHARS}])")
            if words
            else None
        )

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        text = _WEBHOOK_TOKEN.sub(lambda m: m.group(1) + REDACTED, text)
        return _TOKEN_FIELD.sub(lambda m: m.group(1) + REDACTED, text)


class DropInapplicable(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING:
            return True
        message = record.getMessage()
        return not any(text in message for text in _INAPPLICABLE)


def setup_logging(level: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    handler.addFilter(DropInapplicable())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiosqlite logs every statement's thread hop at DEBUG: two lines per statement drown what DEBUG
    # is for (the HTTP requests) and cost more than the statements themselves.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.getEffectiveLevel()))
