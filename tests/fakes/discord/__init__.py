"""A faithful fake of Discord (REST + WebSocket gateway + CDN) for end-to-end tests; see :mod:`.server`.

Layout: :mod:`.server` (the :class:`FakeDiscord` class, lifecycle, route table), :mod:`.records`
(what it stores and records), one mixin module per responsibility (:mod:`.state`, :mod:`.messages`,
:mod:`.cdn`, :mod:`.http`, :mod:`.gateway`, :mod:`.interactions`, :mod:`.webhooks`, :mod:`.rest`)
and :mod:`.payloads` (pure wire builders, errors and limits).
"""

from tests.fakes.discord.records import Interaction, RecordedRequest
from tests.fakes.discord.server import FakeDiscord

__all__ = ["FakeDiscord", "Interaction", "RecordedRequest"]
