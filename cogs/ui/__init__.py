"""The Discord edge the cogs share (views, request facts). Not a cog package: bot.py adds cogs by name."""
