"""Kept for existing imports: the screening pipeline lives in core/screening/."""

from core.screening import FilterVerdict, SafetyLists, check_prompt, clean_term, normalize, words
from core.screening.guild import GuildMatcher as TermMatcher
from core.screening.guild import guild_matcher

__all__ = ["FilterVerdict", "SafetyLists", "TermMatcher", "check_prompt", "clean_term", "guild_matcher", "normalize", "words"]
