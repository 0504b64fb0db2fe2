"""The one place that defines Pro's `safety_tolerance` scale and how a guild's policy maps onto it.

Segmind's page says 0–6, default 3, "higher values for stricter checking"; Black Forest Labs, who
run the model, define 0–5, default 2, with **0 the strictest and 5 the most permissive**. The bot
follows Black Forest Labs (Segmind proxies their API) and never sends more than 5, so under either
reading the value stays inside both ranges. Guild policies store values on this 0–5 scale.
"""

from __future__ import annotations

STRICTEST = 0
MOST_PERMISSIVE = 5
# The tighter default used everywhere a guild has not decided otherwise.
DEFAULT_SAFETY_TOLERANCE = 2

LABELS = {
    0: "0 (strictest)",
    1: "1 (very strict)",
    2: "2 (default)",
    3: "3 (relaxed)",
    4: "4 (permissive)",
    5: "5 (most permissive)",
}


def tolerance_for_channel(*, ordinary: int, age_restricted: int, channel_is_nsfw: bool) -> int:
    """The tolerance for a request: the age-restricted value only where Discord marks the channel NSFW.

    An age-restricted value lower (stricter) than the ordinary one is honoured as set.
    """
    value = age_restricted if channel_is_nsfw else ordinary
    return max(STRICTEST, min(MOST_PERMISSIVE, value))
