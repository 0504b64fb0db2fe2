"""The Discord edge the cogs share (services and helpers that are not cogs themselves)."""
