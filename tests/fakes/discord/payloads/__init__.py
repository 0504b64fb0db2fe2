"""Wire-level building blocks for the fake Discord: payload builders, errors and documented limits.

Everything here is pure (no sockets, no server state) so the shapes can be read and checked in one
place.  The shapes follow Discord's API docs and the official OpenAPI spec; the keys that discord.py
2.7.1 actually requires are listed in ``shared/reference/discord-e2e.md``.  Snowflakes are ints in
Python and strings on the wire, exactly like Discord.

Split by kind: :mod:`.base` (bits, snowflakes), :mod:`.errors`, :mod:`.objects` (users, guilds,
channels, READY), :mod:`.messages` (attachments, messages, mentions), :mod:`.limits` (validation of
what the bot sends) and :mod:`.options` (a command's options as an interaction carries them).
Callers use the flat namespace (``from tests.fakes.discord import payloads as p``; ``p.message_object``).
"""

# The flat namespace is the API: every test reads builders and limits as p.<name>.
from tests.fakes.discord.payloads.base import *  # noqa: F403
from tests.fakes.discord.payloads.errors import *  # noqa: F403
from tests.fakes.discord.payloads.limits import *  # noqa: F403
from tests.fakes.discord.payloads.messages import *  # noqa: F403
from tests.fakes.discord.payloads.objects import *  # noqa: F403
from tests.fakes.discord.payloads.options import *  # noqa: F403
