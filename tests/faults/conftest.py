"""The e2e `world` fixture, for the focused delivery tests next to the fault suite."""

from tests.e2e.conftest import world  # noqa: F401 - a fixture, used by name
