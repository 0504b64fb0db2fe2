"""The Discord edge the cogs share: services (mod log, owner alerts) and views that are not cogs.

Not a cog package: bot.py adds cogs by name.
"""
