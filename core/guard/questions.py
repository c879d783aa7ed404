"""Is a prompt a question about this session's cost or waste? (UserPromptSubmit; the prompt is
matched, never stored.)

People ask "am I wasting tokens", "are we in a loop", "how much has this cost", "what have we
spent so far". Prompts that only mention cost, tokens, budgets or ROI as things in the code ("add
an ROI column", "fix the infinite loop", "refresh the auth token") are not questions about the
session: a prompt that starts with a coding verb is one unless it also speaks about the session
("so far", "are we", "this session"). tests/guard/test_cost_questions.py holds the examples.
"""

from __future__ import annotations

import re

_ASKS = re.compile("|".join((
    # waste
    r"\bwast(?:e|es|ed|ing)\s+(?:\w+\s+){0,3}?(?:tokens?|money|credits?|budget|(?:time and )?tokens)\b",
    r"\b(?:tokens?|money)\b.{0,20}\b(?:being |getting )?wasted\b",
    # loops and circles
    r"\b(?:are|am|is)\s+(?:we|you|i|it|claude)\s+(?:\w+\s+)?"
    r"(?:in|into|caught in|stuck in|going in|running in)\s+(?:a |an )?(?:\w+ )?(?:loop|circles)\b",
    r"\b(?:going|running|spinning|walking)\s+(?:a)?round\s+in\s+circles\b",
    r"\b(?:you(?:'re| are)|we(?:'re| are)|i(?:'m| am))\s+(?:\w+\s+)?(?:looping|going in circles|stuck in a loop)\b",
    r"\bkeeps?\s+(?:retrying|re-?running|repeating|trying|doing)\s+the\s+same\b",
    # how much / how many
    r"\bhow much\b(?:\s+\w+){0,6}?\s+(?:cost|costs|costing|spent|spend|spending|burn\w*|tokens?|money|dollars)\b",
    r"\bhow much\b.{0,40}\b(?:so far|this session|today)\b.{0,10}\b(?:cost|spent|spend|tokens?)\b",
    r"\bhow many tokens\b.{0,30}\b(?:have|did|has|had|do)\s+(?:we|i|you|this|that|it|the session)\b",
    r"\bhow many tokens\b.{0,40}\b(?:so far|used|spent|burn\w*|this session|left|in this)\b",
    r"\bhow (?:fast|quickly) (?:are|am|is) (?:we|i|you|this)\b.{0,20}\b(?:burn\w*|spend\w*|using)\b",
    # what did it cost / what have we spent
    r"\bwhat(?:'s| is| has| did| does| have| will)?\s+"
    r"(?:this|that|it|we|i|you|the (?:last|whole) \w+|this session|the session)\s+"
    r"(?:\w+\s+){0,2}?(?:cost|costs|costing|costed|spent|spend|burn\w*)\b",
    r"\b(?:cost|costs|spent|spend|spending|tokens?|used)\b.{0,15}\bso far\b",
    # the session's spend, budget, expense
    r"\b(?:my|our|this session'?s|the session'?s|today'?s|this month'?s)\s+(?:ai |claude |token |total )?"
    r"(?:cost|costs|spend|spending|bill|budget|usage)\b",
    r"\b(?:token|tokens)\s+(?:usage|budget|spend|spending|count|burn)\b",
    r"\b(?:over|blow\w*|blew|exceed\w*|within|close to|near)\s+(?:the |my |our )?(?:token |session |daily )?budget\b",
    r"\bhow expensive\s+(?:was|is|has)\s+(?:that|this|it)\b",
    r"\b(?:is|was)\s+(?:this|that|it)\s+(?:\w+\s+)?(?:getting |becoming )?expensive\b",
    r"\bcost (?:breakdown|summary)\b",
    # reports and ROI
    r"(?:^|\s)/?cost[- ]report\b",
    r"\b(?:what'?s|what is|what was|how is|how'?s)\s+(?:the |my |our |this session'?s )?roi\b",
    r"\broi of (?:this|the) session\b",
    r"\bworth (?:the|all the|all those) (?:tokens|money|cost|spend)\b",
    r"\bcost per (?:fix|bug|feature)\b",
    r"\b(?:ai|claude|token) spend\b",
)), re.I)

# A prompt that starts with one of these is a coding task, unless it also speaks about the session.
_CODE_VERBS = frozenset("""add implement fix refactor rename write create update remove delete make change move
document explain test build compute calculate render replace extract convert parse optimize optimise
rewrite debug handle store persist expose migrate wire port define introduce cache log validate sort
plot chart draw format generate support use set""".split())
_ABOUT_SESSION = re.compile(r"\b(?:so far|this session|are we|am i|are you|have we|have you|did we|did you|we'?ve|"
                            r"you'?ve|i'?ve|we'?re|you'?re)\b", re.I)
_NOT_MONEY = re.compile(r"\bbig[- ]?o\b|\bcomplexity\b|\bO\(", re.I)
_FIRST_WORD = re.compile(r"[A-Za-z']+")


def asks_about_cost(prompt: str) -> bool:
    """Does the prompt ask about this session's cost or waste?"""
    text = prompt[:4000]
    if not _ASKS.search(text):
        return False
    if _NOT_MONEY.search(text):
        return False
    first = _FIRST_WORD.search(text.lstrip(" \t\n/-*>#"))
    if first and first.group(0).lower() in _CODE_VERBS and not _ABOUT_SESSION.search(text):
        return False
    return True
