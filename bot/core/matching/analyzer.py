"""From a question to what the matcher compares: role mentions, question-kind cues, topic words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.knowledge.model import Knowledge
from bot.core.matching.lexicon import (
    DECIDE_CUES,
    DEPARTMENTS,
    HOW_CUES,
    NOT_DECIDING_BEFORE_CALL,
    OWNER_CUES,
    SCOPE_SINGULARS,
    TIME_NOUNS,
    WHEN_CUES,
    WHY_CUES,
    canonical,
    is_stopword,
    split_words,
)
from bot.core.normalize import fold, normalize, slack_to_plain, unshout

_ROLE_WORD_FIXES = (
    (re.compile(r"\bmgrs?\b"), "manager"),
    (re.compile(r"\bprogrammes?\b"), "program"),
    (re.compile(r"\bmanagment\b|\bmanagemnt\b"), "management"),
    (re.compile(r"\bmanger\b|\bmanagr\b|\bmanaer\b"), "manager"),
)
_MESSAGE_VERB = re.compile(r"^(?:'?d|ed)? (?:me|him|her|them|us|you)(?![a-z0-9])")
"""After "PM": an object ("PM me the link", "I PM'd him"): to send a private message."""
_MESSAGE_NOUN = re.compile(
    r"\b(?:send|sends|sent|sending|got|get|gets|receive|received|drop|dropped)"
    r"(?: [a-z]+){0,2} an? $"
)
"""Before "PM": sending or getting one ("send someone a PM", "I got a PM from"): a message."""
_CLOCK_TIME = re.compile(r"(?<![a-z0-9])\d{1,2}(?: \d\d)? ?[ap]m(?![a-z0-9])")
"""A time of day ("3 pm", "4:30pm"): never the abbreviation "PM"."""
_HOLDER = re.compile(
    r"(?:^|\b)(?:who|whos|which)(?:'s| is| are| s)?"
    r"(?: (?:our|the|a|an|your|my|this|that|their|current|acting|new|assigned|main))* ?$"
)
"""Text before a role name when the question asks who holds that role ("who's our TPM ...")."""
_OPENING = re.compile(r"^(?:(?:our|the|your|current|acting|new|assigned|main) )*$")
"""Text before a role name that opens the message ("the TPM for ...")."""
_FOR_TOPIC = re.compile(r"^ (?:for|on|of|over|in|at) \S")
"""After an opening role name: what it holds ("TPM for the payments re-platform?")."""
MAX_FRAGMENT_WORDS = 8
"""A role name opening a message asks who holds it only in a fragment this short."""
_STATEMENT = re.compile(
    r"\b(?:is|are|was|were|will|has|have|had|be|been|being|isn|aren|wasn|won|hasn)\b"
)
"""Without a question mark, a verb like these makes such a message a statement ("our TPM for
payments is out today"), not a fragment asking who."""
_ASKS_ELSE = re.compile(
    r"\b(?:who|whos|whom|whose|what|whats|which|why|how|hows|when|where|wheres)\b"
)
"""In the rest of such a message, a question of its own: the role name was not the ask."""
_ON_SOMEONE = re.compile(r"\b(?:is|s) (?:it|this|that) on\b")
_MAYBE_NEUTRAL = re.compile(r"[A-Z0-9./]")
_SENTENCE_END = re.compile(r"[.!?:;]$")
_ID_LIKE = re.compile(r"[a-z]", re.IGNORECASE)
_ACRONYM = re.compile(r"[A-Z]{2,6}s?")
_CHANNEL_LABEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")


@dataclass(frozen=True)
class Query:
    """A question, analysed."""

    text: str
    normalized: str
    words: tuple[str, ...]
    """Topic words as written (folded), role mentions and stopwords removed."""
    tokens: tuple[str, ...]
    """The same words in canonical (stemmed) form, in order, de-duplicated."""
    roles: frozenset[str]
    """Roles named explicitly ("the TPM", "product owner")."""
    ambiguous: tuple[str, ...]
    """Roles an ambiguous abbreviation in the question could mean ("PM")."""
    kinds: frozenset[str]
    """Question-kind cues found: why, decide, how, when."""
    holder: str | None = None
    """The role the question asks the holder of ("who is the product owner for X")."""
    asks_ambiguous: bool = False
    """It asks who holds an abbreviation that several roles share ("who's the PM for X")."""
    subject: frozenset[str] = frozenset()
    """Tokens naming what a piece of work is about or who takes part, never off-topic: a
    named project's subject ("the Fenwyx podcast project"), the departments it spans."""
    departments: int = 0
    """How many departments the question names ("HR, finance and facilities": 3)."""
    neutral: frozenset[str] = frozenset()
    """Folded words that are names, ids or parts of links: neutral evidence, never against."""
    asks_owner: bool = False
    """The question asks who (owns, decides, is responsible, to ask): an ownership question."""
    length: int = 0
    """Words in the normalised question."""


@dataclass(frozen=True)
class RoleMentions:
    """Finds role names, aliases and ambiguous abbreviations in folded text."""

    pattern: re.Pattern[str] | None
    lookup: dict[str, tuple[str, ...]]
    ambiguous: frozenset[str]

    @classmethod
    def from_knowledge(cls, knowledge: Knowledge) -> RoleMentions:
        lookup: dict[str, tuple[str, ...]] = {}
        for role in knowledge.roles.values():
            names = [role.name, *role.aliases]
            if role.name.lower().endswith(" manager"):
                names.append(role.name[: -len("manager")] + "management")
            for name in names:
                key = fold(name)
                if key:
                    lookup[key] = (role.id,)
        ambiguous: set[str] = set()
        for item in knowledge.ambiguous:
            key = fold(item.abbreviation)
            lookup[key] = item.roles
            ambiguous.add(key)
        if not lookup:
            return cls(None, {}, frozenset())
        alternatives = "|".join(re.escape(k) for k in sorted(lookup, key=len, reverse=True))
        pattern = re.compile(rf"(?<![a-z0-9])({alternatives})(?:'?s)?(?![a-z0-9])")
        return cls(pattern, lookup, frozenset(ambiguous))

    def find(self, folded: str, question: bool = True) -> Mentions:
        """The text with mentions removed, and what they say. ``question``: the message has a
        question mark; without one, a fragment that reads as a statement ("our TPM for payments
        is out today") does not ask who holds a role."""
        folded = _CLOCK_TIME.sub(" ", folded)
        if self.pattern is None:
            return Mentions(folded, set(), [], set(), False)
        for regex, replacement in _ROLE_WORD_FIXES:
            folded = regex.sub(replacement, folded)
        named: set[str] = set()
        ambiguous: list[str] = []
        holders: set[str] = set()
        asks_ambiguous = False

        def replace(match: re.Match[str]) -> str:
            nonlocal asks_ambiguous
            key = match.group(1)
            roles = self.lookup[key]
            if key in self.ambiguous and (
                _MESSAGE_VERB.match(folded[match.end() : match.end() + 8])
                or _MESSAGE_NOUN.search(folded[max(0, match.start() - 40) : match.start()])
            ):
                return " "  # "can you PM me the link": a private message, no role
            asked = bool(_HOLDER.search(folded[max(0, match.start() - 40) : match.start()])) or (
                _fragment_holder(folded, match.start(), match.end(), question)
            )
            if key in self.ambiguous:
                ambiguous.extend(r for r in roles if r not in ambiguous)
                asks_ambiguous = asks_ambiguous or asked
            else:
                named.update(roles)
                if asked:
                    holders.update(roles)
            return " "

        stripped = self.pattern.sub(replace, folded)
        return Mentions(stripped, named, ambiguous, holders, asks_ambiguous)


@dataclass(frozen=True)
class Mentions:
    """What the role mentions in a question say."""

    stripped: str
    """The folded text with the mentions removed."""
    named: set[str]
    ambiguous: list[str]
    """Roles an ambiguous abbreviation could mean, in order."""
    holders: set[str]
    """Roles the question asks who holds ("who's our TPM ...")."""
    asks_ambiguous: bool
    """It asks who holds an ambiguous abbreviation ("who's the PM for Orbit?")."""


def _fragment_holder(folded: str, start: int, end: int, question: bool) -> bool:
    """A short message that opens with a role name and what it holds ("TPM for the payments
    re-platform?", "product owner on the Zephyrine app") asks who holds that role."""
    if not _OPENING.match(folded[:start]):
        return False
    rest = folded[end:]
    return (
        bool(_FOR_TOPIC.match(rest))
        and len(rest.split()) <= MAX_FRAGMENT_WORDS
        and not _ASKS_ELSE.search(rest)
        and any(not is_stopword(w) for w in split_words(rest)[1:])  # not "of the month?"
        and (question or not _STATEMENT.search(rest))
    )


ACROSS_WORDS = frozenset("across cross multiple several inter another".split())
"""Right before a scope singular ("cross team", "across project lines"), they make it several."""
_ASKING = frozenset("who whos whom which".split())


def _qualifier(earlier: str, before: str, following: str, neutral: frozenset[str]) -> str:
    """The word that tells one mention of a scope singular from another: the word before it
    ("the *mobile* project", "phase *2* project"), or a name after it ("project *Orbit*");
    never a function word, nor the question's verb ("who *approves* project budget ...")."""
    if (
        before
        and (before.isdigit() or not is_stopword(before))
        and before not in SCOPE_SINGULARS
        and before not in ACROSS_WORDS
        and before not in OWNER_CUES
        and before not in DECIDE_CUES
        and earlier not in _ASKING
    ):
        return before
    if following in neutral:
        return following
    return ""


MAX_NAME_WORDS = 6
"""How far back a project's name is read ("the Marrowfin employee handbook update project")."""


def _noun_phrase(sequence: list[str], position: int) -> list[str]:
    """The words before ``sequence[position]`` up to the nearest function word."""
    start = position
    while start > 0 and position - start < MAX_NAME_WORDS and not is_stopword(sequence[start - 1]):
        start -= 1
    return sequence[start:position]


def _another(sequence: list[str], position: int) -> bool:
    """A scope noun followed soon by "another" standing for a second one ("from one project to
    another", "another one", "another project"), not "the project needs another week"."""
    for at in range(position + 1, min(len(sequence), position + 4)):
        if sequence[at] == "another":
            after = sequence[at + 1] if at + 1 < len(sequence) else ""
            return not after or after == "one" or after.rstrip("s") in SCOPE_SINGULARS
    return False


def _subject(words: list[str], neutral: frozenset[str]) -> set[str]:
    """The tokens of a project's subject, in the words before "project", when one of them is
    a name: "the Fenwyx podcast project" is a work project about podcasts; "my science
    project" and "a project car" name no work project, and stay what they are."""
    if not any(w in neutral for w in words):
        return set()
    return {canonical(w) for w in words if w not in neutral and not is_stopword(w)}


class Analyzer:
    """Analyses questions against one knowledge base's role names."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.mentions = RoleMentions.from_knowledge(knowledge)

    def analyze(self, text: str, *, phrasing: bool = False) -> Query:
        """``phrasing``: a curated FAQ phrasing, whose every word counts (no names or links
        are set aside), analysed faster."""
        normalized = normalize(text)
        return self._analyze_normalized(text, normalized, phrasing)

    def _analyze_normalized(self, text: str, normalized: str, phrasing: bool = False) -> Query:
        mentions = self.mentions.find(normalized, "?" in text)
        stripped, named, ambiguous = mentions.stripped, mentions.named, mentions.ambiguous
        holders = mentions.holders
        kinds: set[str] = set()
        words: list[str] = []
        tokens: list[str] = []
        # Each scope singular ("project") and the words qualifying its mentions ("the *app*
        # project"): mentions qualified differently name different ones.
        qualifiers: dict[str, set[str]] = {}
        # Words naming what a named project is about ("the Fenwyx *podcast* project"): its
        # subject, not the question's, so they do not make the question off-topic.
        subject: set[str] = set()
        previous = ""
        links = frozenset() if phrasing else link_words(text)
        neutral = frozenset() if phrasing else neutral_words(text)
        # Asking who: a cue word, roles to choose between ("product or program manager?"),
        # or "is it on ..." (on someone's plate).
        asks_owner = (
            bool(holders) or len(named) + len(ambiguous) >= 2 or bool(_ON_SOMEONE.search(stripped))
        )
        sequence = split_words(stripped)
        for position, word in enumerate(sequence):
            if word in ("if", "whether") and previous in DECIDE_CUES:
                kinds.add("why")  # "decides if we ..." asks whether
            if word in ("call", "calls") and previous in NOT_DECIDING_BEFORE_CALL:
                # "on call", "a zoom call": a call, not a decision; "on call" is one word.
                word = "oncall" if previous == "on" else "meeting"  # noqa: PLW2901
            before, previous = previous, word
            if word in links:
                continue  # a link is what the question points at, not what it asks
            if word in OWNER_CUES or word in DECIDE_CUES:
                asks_owner = True
            if word in SCOPE_SINGULARS:
                # "the app project ... the website project", "project Orbit and project Nova"
                # are two projects; "the project plan for the Orbit pricing page project" and
                # "just that one project" are one; "cross-team", "across project lines" are
                # several.
                following = sequence[position + 1] if position + 1 < len(sequence) else ""
                seen = qualifiers.setdefault(word, set())
                earlier = sequence[position - 2] if position > 1 else ""
                qualifier = _qualifier(earlier, before, following, neutral)
                if qualifier:
                    seen.add(qualifier)
                if word == "project" and (not following or is_stopword(following)):
                    subject.update(_subject(_noun_phrase(sequence, position), neutral))
                if len(seen) >= 2 or before in ACROSS_WORDS or _another(sequence, position):
                    # "from one project to another": several too
                    word = word + "s"  # noqa: PLW2901 - the plural stands for every mention
            if word in WHY_CUES:
                kinds.add("why")
                continue
            if word in DECIDE_CUES:
                kinds.add("decide")
                continue
            if word in HOW_CUES:
                kinds.add("how")
            elif word in WHEN_CUES or word in TIME_NOUNS:
                kinds.add("when")
            if is_stopword(word):
                continue
            token = canonical(word)
            if token and token not in tokens:
                words.append(word)
                tokens.append(token)
        # "the app project, the website project": every mention means one of several projects,
        # so the singular does not pull to the one-project role.
        several = {canonical(w) for w in qualifiers if canonical(w + "s") in tokens}
        if several:
            kept = [(w, t) for w, t in zip(words, tokens, strict=True) if t not in several]
            words, tokens = [w for w, _ in kept], [t for _, t in kept]
        # The question's kind becomes a word of its own ("?why"), so how strongly each kind leans
        # to each role is learned from the FAQ's phrasings, like any other word.
        for kind in sorted(kinds):
            words.append(f"?{kind}")
            tokens.append(f"?{kind}")
        # "HR, finance and facilities": the departments a piece of work spans, not what it is about.
        departments = {w for w in sequence if w in DEPARTMENTS} if not phrasing else set()
        if len(departments) >= 2:
            subject.update(canonical(w) for w in departments)
        return Query(
            text=text,
            normalized=normalized,
            words=tuple(words),
            tokens=tuple(tokens),
            roles=frozenset(named),
            ambiguous=tuple(ambiguous),
            kinds=frozenset(kinds),
            holder=next(iter(holders)) if len(holders) == 1 and len(named) == 1 else None,
            asks_ambiguous=mentions.asks_ambiguous and not named,
            subject=frozenset(subject),
            departments=len(departments),
            neutral=neutral,
            asks_owner=asks_owner,
            length=len(normalized.split()),
        )


_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b\S+\.(?:com|org|net|io|dev|app)(?:/\S*)?", re.IGNORECASE
)


def link_words(text: str) -> frozenset[str]:
    """Folded words that only make up links in a message ("https jira example com ...")."""
    found = _URL.findall(slack_to_plain(text[:4000])) if "." in text else []
    return frozenset(w for link in found for w in fold(link).split())


def neutral_words(text: str) -> frozenset[str]:
    """Folded words of names, ids and links in a message: what it is about, not evidence.

    A word capitalised inside a sentence ("the Orbit launch"), mixing letters and digits
    ("PAY-142", "v2"), part of a link or a channel's name stays neutral; an acronym ("SSO",
    "NDAs") is the thing asked about, weighed as jargon. A message mostly in capitals is read
    lowered first (see :func:`unshout`): there, capitals are the writer's habit, not names.
    """
    if len(text) > 4000:
        text = text[:4000]
    if not _MAYBE_NEUTRAL.search(text):
        return frozenset()  # no capital, digit or link: nothing to set aside (most questions)
    # A channel's name ("<#C0123|proj-orbit-web>") names a place, as a link does.
    neutral: set[str] = (
        {w for label in _CHANNEL_LABEL.findall(text) for w in fold(label).split()}
        if "<#" in text
        else set()
    )
    first = True
    # In a message mostly in capitals (or Title Case throughout) case tells nothing: read it
    # lowered, so only ids, links and channels stay neutral, not every word.
    for raw in unshout(slack_to_plain(text)).split():
        token = raw.strip("()[]{}\"'.,!?;:")
        sentence_start = first
        first = bool(_SENTENCE_END.search(raw))
        if not token or not _ID_LIKE.search(token):
            continue
        link = "://" in token or token.startswith("www.") or ("." in token and "/" in token)
        id_like = any(c.isdigit() for c in token)
        # An acronym ("SSO", "NDAs") names a kind of thing, like jargon: it is what the question
        # is about, so it is not set aside the way a name ("Orbit", "PayFlow") is.
        acronym = bool(_ACRONYM.fullmatch(token))
        capital = token[0].isupper() and not sentence_start and not acronym
        if link or id_like or capital:
            neutral.update(fold(token).split())
    return frozenset(neutral)
