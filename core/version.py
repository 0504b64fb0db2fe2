"""The bot's version (semantic versioning; CHANGELOG.md says what changed in each)."""

__version__ = "0.3.0"
