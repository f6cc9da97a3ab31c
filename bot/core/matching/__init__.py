"""Matching questions to FAQ entries and roles."""

from bot.core.matching.analyzer import Analyzer, Query
from bot.core.matching.matcher import Candidate, Matcher, MatchResult, Outcome, Tuning

__all__ = ["Analyzer", "Candidate", "MatchResult", "Matcher", "Outcome", "Query", "Tuning"]
