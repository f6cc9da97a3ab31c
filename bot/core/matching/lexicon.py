"""Words: which carry no topic, which signal the question kind, and how words are reduced.

Everything here is general English or general to "who owns this?" questions; nothing is
specific to one FAQ entry, so the matcher generalises to questions nobody wrote down.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

# Function words and the words of asking itself ("who should I bug about ...").
STOPWORDS: frozenset[str] = frozenset(
    """
    a an the and or but nor so yet if then than that this these those there here it its it's
    i me my mine we us our ours you your yours he him his she her they them their theirs one
    is am are was were be been being do does did doing done have has had having will would
    shall should can could may might must ought need needs needed to of in on at by for with
    from into onto about around over under between among per via up down out off as like
    what which who whom whose why how when where whether whoever whatever
    not no yes just really actually basically literally quite very too also even still only
    all any some each every both either neither few more most much many lot lots
    someone somebody anyone anybody everyone everybody nobody noone no-one something anything
    everything nothing thing things stuff person people guy guys folks team's
    own owns owned owner owners ownership owning responsible responsibility accountable
    accountability charge handles handle handling handled job role roles duty duties
    ask asking asked bug ping pinging talk talking contact reach loop go goes going get gets
    getting got make makes making made take takes taking took let lets put puts know knows
    knowing think thinks want wants wanted supposed usually typically normally generally
    hey hi hello hiya yo pls please plz thanks thank thx ty quick question q qq sorry
    ok okay cool lol haha hmm um uh well anyway btw fyi imo tbh idk afaik
    s re ll ve d m t don doesn didn isn aren wasn weren won wouldn shouldn couldn can't
    whos who's whose what's how's where's when's that's there's here's let's it'd i'd i'm
    we're they're you're we've i've we'll i'll you'll
    good morning afternoon evening night today tonight tomorrow yesterday weekend
    monday tuesday wednesday thursday friday saturday sunday day days week weeks month months
    year years minute minutes hour hours time times again now soon later ago
    vs versus difference differences compare comparison versus
    """.split()
)

# Words whose stem would merge meanings that different roles own: "the project" is one project
# (a Project Manager's), "the projects" are several (a Program Manager's); "market" research is
# a Product Manager's, "marketing" collateral a launch's. They keep their own token.
KEEP_WHOLE: frozenset[str] = frozenset("projects teams departments programs marketing".split())

DEPARTMENTS: frozenset[str] = frozenset(
    "hr finance facilities legal procurement purchasing marketing sales support engineering "
    "operations ops compliance security design logistics".split()
)
"""Departments: two or more named in one question ("HR, finance and facilities") mean a
piece of work that spans departments, whatever each of them does day to day."""

SCOPE_SINGULARS: frozenset[str] = frozenset("project team department program".split())
"""Named twice with different qualifiers ("the web project and the app project"), they mean
several; "the project plan for the web project" is still one."""

# Question-kind cues. They are evidence, never an override: a matcher adds a small bonus to
# entries whose distinction agrees, and never removes an answer because of them.
WHY_CUES: frozenset[str] = frozenset(
    "why whether worth reason reasons rationale justify justification point".split()
)
DECIDE_CUES: frozenset[str] = frozenset(
    "decide decides decided deciding decision decisions call calls choose chooses choosing "
    "pick picks picking".split()
)
NOT_DECIDING_BEFORE_CALL: frozenset[str] = frozenset(
    "on zoom phone video conference sales client customer standup status".split()
)
"""Before "call", these make it a call to join ("on call", "the zoom call"), not a decision."""
OWNER_CUES: frozenset[str] = frozenset(
    "who whom whose whos whoever owner owners own owns owned ownership responsible "
    "responsibility accountable accountability charge ask ping contact reach bug "
    "role roles job duty duties anyone anybody someone somebody".split()
)
"""Words of asking who owns something; without any, a message is rarely an ownership question."""
HOW_CUES: frozenset[str] = frozenset("how".split())
WHEN_CUES: frozenset[str] = frozenset("when".split())
TIME_NOUNS: frozenset[str] = frozenset(
    "date dates deadline deadlines due timeline timelines schedule schedules eta etas".split()
)
"""Topic words that also make a question a *when* question ("who decides the due date")."""

# Common spellings people use that stemming alone does not join.
_SPELLING = {
    "programme": "program",
    "programmes": "programs",
    "cancelled": "canceled",
    "cancelling": "canceling",
    "labour": "labor",
    "behaviour": "behavior",
    "colour": "color",
    "analyse": "analyze",
    "analysed": "analyzed",
    "catalogue": "catalog",
    "judgement": "judgment",
    "licence": "license",
    "favour": "favor",
    "deps": "dependencies",
    "dep": "dependency",
    "reqs": "requirements",
    "req": "requirement",
    "eng": "engineering",
    "infra": "infrastructure",
    "arch": "architecture",
    "approx": "approximately",
    "mgmt": "management",
    "mgr": "manager",
    "ppl": "people",
    "prio": "priority",
    "prios": "priorities",
    "prioritisation": "prioritization",
    "cust": "customer",
    "custs": "customers",
    "docs": "documentation",
    "doc": "document",
    "eta": "schedule",
    "etas": "schedule",
}
_BRITISH_ISE = re.compile(r"(?<=[a-z]{3})is(e|es|ed|ing|ation|ations|er|ers)$")
_CONTRACTION = re.compile(r"'(s|re|ll|ve|d|m|t)$|n't$")

_STEMMER = Stemmer.Stemmer("english")


def split_words(folded: str) -> list[str]:
    """Words of folded text, contractions cut ("who's" -> "who")."""
    words: list[str] = []
    for raw in folded.split():
        word = _CONTRACTION.sub("", raw).replace("'", "")
        if word:
            words.append(word)
    return words


@lru_cache(maxsize=65536)
def canonical(word: str) -> str:
    """One spelling and one stem per word: "prioritising" and "prioritize" meet."""
    word = _SPELLING.get(word, word)
    if word in KEEP_WHOLE:
        return word
    word = _BRITISH_ISE.sub(lambda m: "iz" + m.group(1), word)
    return str(_STEMMER.stemWord(word))


def is_stopword(word: str) -> bool:
    return word in STOPWORDS or word.isdigit() or len(word) == 1
