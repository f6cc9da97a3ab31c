"""Slack-style variants of a question, for fitting the calibrated decision (never at run time).

People rarely ask as a curated phrasing reads: they greet, sign off, explain who they are, name
products, teams and tickets nobody has heard of, paste links, mention people and channels, add
emoji, write in capitals, leave out "who", make typos and write in a second language's word
order. None of that changes who owns the question. ``scripts/fit_calibration.py`` asks such
variants of the FAQ's own phrasings (against an index built without them) so that the fitted
decision learns this noise is neutral, rather than learning only from clean phrasings.

Everything here is generic and invented (names, ids, hosts, templates) and deterministic: the
same phrasing and seed always give the same variants.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

NAMES = (
    "Kestrel", "Bramble", "Quillon", "Marlowe", "Tundra", "Pebblecast", "Vantor", "Sorrel",
    "Juniper", "Wexford", "Lumora", "Zinnia", "Fjordline", "Halcyon", "Brisket", "Oakmoss",
    "Tessellate", "Corvid", "Minnow", "Saffron", "Quasar", "Nimbus", "Ferrule", "Gossamer",
)  # fmt: skip
"""Invented product, project and team names."""
TEAMS = (
    "Growth Pod", "Team Falcon", "Payments Guild", "Squad Tangerine", "the Ember crew",
    "Platform Pod B", "Blue Heron", "Core Loop", "Atlas Pod", "Red Kite",
)  # fmt: skip
TICKET_PREFIXES = ("KES", "BRM", "QLN", "MRL", "TUN", "VNT", "SRL", "JNP")
HOSTS = (
    "jira.kestrel.example", "wiki.bramble.example/display", "docs.example.net/d",
    "confluence.quillon.example/pages", "github.example.org/vantor/issues", "notion.example.so",
)  # fmt: skip
GREETINGS = (
    "hey team", "hi all", "hello folks", "morning everyone", "hiya", "hey hey", "yo", "hi there",
    "good morning", "hey <@U02KQ7ZP1>", "hello <@U0XJ4AB9C>", "hi friends", "quick one",
)  # fmt: skip
SIGN_OFFS = (
    "thanks!", "thx :pray:", "ty in advance", "cheers", "appreciate it :slightly_smiling_face:",
    "any pointers welcome", "thanks a lot 🙏", "much appreciated!!", "cc <@U03PLMN88>",
    "sorry if this was asked before", "(asking for a friend)",
)  # fmt: skip
INTRODUCTIONS = (
    "I'm new on {team} and still finding my way",
    "I'm a designer working with {team}",
    "context: I sit in support and a customer asked me",
    "I'm in sales, a prospect keeps asking about this",
    "just joined last week as an analyst on {team}",
    "I'm on the {name} side of things",
    "writing from {team}, we're a bit stuck",
    "sorry, long time lurker here",
    "our lead is out this week",
)
EMOJI = (
    ":eyes:", ":thinking_face:", "🙏", "🤔", ":sweat_smile:", ":wave:", "👀", ":rocket:",
    ":sos:", ":question:", "😅", ":+1:",
)  # fmt: skip

_WHO_VERB = re.compile(r"^(?:so |and |but |ok )?who(?:'s| is)? (\w+) (.+)$", re.IGNORECASE)
_WHO_RESPONSIBLE = re.compile(
    r"^who(?:'s| is| are)? (?:responsible for|in charge of|accountable for|on the hook for) (.+)$",
    re.IGNORECASE,
)
_WHO_ASK = re.compile(
    r"^who (?:should|do|can|would) (?:i|we) (?:ask|talk to|ping|go to|contact|bug) "
    r"(?:about |for |re |regarding )?(.+)$",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"\b(?:the|a|an) ", re.IGNORECASE)
_THE = re.compile(r"\bthe (?=[a-z])")
_WORD = re.compile(r"[A-Za-z]{5,}")
_KEEP_WORDS = frozenset("manager product program project technical owner owns".split())


def _ends(text: str) -> tuple[str, str]:
    """The text without its closing punctuation, and that punctuation."""
    stripped = text.rstrip(" ?!.")
    return stripped, text[len(stripped) :].strip()


def _base(verb: str) -> str:
    """A third-person verb's base form ("decides" -> "decide"), roughly."""
    lower = verb.lower()
    if lower.endswith("ies"):
        return lower[:-3] + "y"
    if lower.endswith(("sses", "shes", "ches", "xes")):
        return lower[:-2]
    if lower.endswith("s") and not lower.endswith("ss"):
        return lower[:-1]
    return lower


def drop_who(text: str, rng: random.Random) -> str:
    """Asking without "who": "need someone to decide X", "is there an owner for X", ..."""
    body, _ = _ends(text)
    found = _WHO_RESPONSIBLE.match(body) or _WHO_ASK.match(body)
    if found:
        topic = found.group(1)
        template = rng.choice(
            (
                "is there an owner for {t}",
                "need someone for {t}",
                "looking for the owner of {t}",
                "anyone responsible for {t}",
                "not sure where to go for {t}, is there an owner",
            )
        )
        return template.format(t=topic) + rng.choice(("?", "", "??"))
    found = _WHO_VERB.match(body)
    if found and found.group(1).lower() not in ("should", "do", "can", "would", "will", "the"):
        verb, rest = _base(found.group(1)), found.group(2)
        if verb in ("is", "are", "be"):
            return text
        template = rng.choice(
            (
                "need someone to {v} {r}",
                "looking for someone to {v} {r}",
                "is there anyone who can {v} {r}",
                "we need somebody to {v} {r}",
            )
        )
        return template.format(v=verb, r=rest) + rng.choice(("", "?", " asap", "."))
    return text


def second_language(text: str, rng: random.Random) -> str:
    """Word order and articles as a non-native writer might use them."""
    body, end = _ends(text)
    found = re.match(r"^who should (i|we) (.+)$", body, re.IGNORECASE)
    if found and rng.random() < 0.6:
        body = f"to whom {found.group(1)} should {found.group(2)}"
    elif rng.random() < 0.5:
        body = re.sub(r"\bresponsible for\b", "responsible of", body, count=1)
        body = re.sub(r"\bwho (decides|owns|handles)\b", r"who is \1", body, count=1)
    if rng.random() < 0.7:
        body = _ARTICLE.sub("", body)
    prefix = rng.choice(("", "", "please, ", "kindly tell ", "hello, please advise "))
    return prefix + body + (end or "?")


def typo(text: str, rng: random.Random) -> str:
    """One light typo in one longer word: two letters swapped, one dropped or doubled."""
    words = [m for m in _WORD.finditer(text) if m.group(0).lower() not in _KEEP_WORDS]
    if not words:
        return text
    found = rng.choice(words)
    word = found.group(0)
    at = rng.randrange(1, len(word) - 2)
    kind = rng.randrange(3)
    if kind == 0:
        changed = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    elif kind == 1:
        changed = word[:at] + word[at + 1 :]
    else:
        changed = word[:at] + word[at] + word[at:]
    return text[: found.start()] + changed + text[found.end() :]


def name(text: str, rng: random.Random) -> str:
    """An invented product, project or team name in the question."""
    chosen = rng.choice(NAMES)
    places = list(_THE.finditer(text))
    if places and rng.random() < 0.5:
        at = rng.choice(places).end()
        return text[:at] + chosen + " " + text[at:]
    body, end = _ends(text)
    tail = rng.choice((" for {n}", " on {n}", " in {n}", " ({n})", " re {n}", " for {n} + {m}"))
    return body + tail.format(n=chosen, m=rng.choice(NAMES)) + (end or "?")


def ticket(text: str, rng: random.Random) -> str:
    body, end = _ends(text)
    number = f"{rng.choice(TICKET_PREFIXES)}-{rng.randrange(10, 9999)}"
    tail = rng.choice((" ({t})", ", see {t}", " [{t}]", " for {t}", " (ticket {t})"))
    return body + tail.format(t=number) + (end or "?")


def link(text: str, rng: random.Random) -> str:
    """A link (bare or Slack-formatted), a channel or a person mentioned."""
    host = rng.choice(HOSTS)
    path = f"{rng.choice(NAMES).lower()}-{rng.randrange(100, 99999)}"
    kind = rng.randrange(4)
    if kind == 0:
        extra = f"https://{host}/{path}"
    elif kind == 1:
        extra = f"<https://{host}/{path}|{rng.choice(NAMES)} spec>"
    elif kind == 2:
        channel = f"{rng.choice(('proj', 'team', 'squad', 'help'))}-{rng.choice(NAMES).lower()}"
        extra = f"<#C0{rng.randrange(10**6, 10**7)}|{channel}>"
    else:
        extra = f"<@U0{rng.randrange(10**6, 10**7)}>"
    if rng.random() < 0.5:
        return f"{text} {rng.choice(('', 'context: ', 'see ', 'details in ', '(', 'cc '))}{extra}"
    return f"{extra} {text}"


def emoji(text: str, rng: random.Random) -> str:
    code = rng.choice(EMOJI)
    return f"{code} {text}" if rng.random() < 0.4 else f"{text} {code}"


def greet(text: str, rng: random.Random) -> str:
    greeting = rng.choice(GREETINGS)
    return f"{greeting}{rng.choice((', ', '! ', ' - ', ' :wave: ', ' '))}{text}"


def sign_off(text: str, rng: random.Random) -> str:
    return f"{text} {rng.choice(SIGN_OFFS)}"


def introduce(text: str, rng: random.Random) -> str:
    """A sentence about the writer around the question."""
    said = rng.choice(INTRODUCTIONS).format(team=rng.choice(TEAMS), name=rng.choice(NAMES))
    if rng.random() < 0.7:
        return f"{said[0].upper()}{said[1:]}. {text[0].upper()}{text[1:]}"
    return f"{text} ({said})"


def fragment(text: str, rng: random.Random) -> str:
    """The question cut to its topic with an owner cue: "owner of X for Kestrel??"."""
    body, _ = _ends(text)
    found = _WHO_RESPONSIBLE.match(body) or _WHO_ASK.match(body) or _WHO_VERB.match(body)
    if not found:
        return text
    topic = found.group(found.lastindex or 1)
    template = rng.choice(
        ("owner of {t}??", "{t} for {n} - who?", "{t} for the {n} work, owner??", "who's on {t}")
    )
    return template.format(t=topic, n=rng.choice(NAMES))


def shout(text: str, rng: random.Random) -> str:
    return text.upper()


CONTENT: tuple[Callable[[str, random.Random], str], ...] = (
    drop_who,
    second_language,
    typo,
    name,
    name,
    ticket,
    fragment,
)
"""Changes to the question's own words."""
WRAPPERS: tuple[Callable[[str, random.Random], str], ...] = (
    greet,
    sign_off,
    introduce,
    link,
    emoji,
)
"""Things around the question."""


def variants(text: str, count: int, seed: int = 0) -> list[str]:
    """``count`` noisy Slack-style variants of a question, always the same for the same input.

    Each variant changes the question's words once or twice, wraps it in zero to three things
    people put around a question, and is sometimes written all in capitals.
    """
    rng = random.Random(f"{seed}:{text}")
    out: list[str] = []
    for _ in range(count):
        changed = text
        for change in rng.sample(CONTENT, rng.randint(1, 2)):
            changed = change(changed, rng)
        for wrap in rng.sample(WRAPPERS, rng.randint(0, 3)):
            changed = wrap(changed, rng)
        if rng.random() < 0.12:
            changed = shout(changed, rng)
        out.append(changed)
    return out
