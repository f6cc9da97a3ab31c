"""Turning Slack message text into plain, comparable text. Pure functions, no I/O.

:func:`clean` is the boundary every piece of text people typed passes first (the Slack service,
the store, what is shown back): lone surrogates (an unpaired ``\\ud83d`` JSON escape) become
U+FFFD, invisible characters inside words (zero-width space, soft hyphen, word joiner, BOM) are
removed rather than turned into spaces, and bidirectional controls, which can reorder what a
reader sees, are removed.

Slack sends mrkdwn with angle-bracket entities: ``<@U123>`` (user mentions), ``<#C123|name>``
(channel links), ``<!here>`` (special mentions), ``<https://x|label>`` (links), HTML entities
(``&amp;``) and ``:emoji:`` codes. :func:`slack_to_plain` removes or resolves all of them;
:func:`fold` lowers case, removes accents and unifies Unicode forms and punctuation.
"""

from __future__ import annotations

import html
import re
import unicodedata

MAX_QUESTION_CHARS = 2000
"""Longer questions are cut here before matching (nobody's question needs more)."""

_USER_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([^>|]*)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto|tel|ftp)[^>|]*)(?:\|([^>]*))?>", re.IGNORECASE)
_OTHER_ENTITY = re.compile(r"<[^<>]*>")
_EMOJI_CODE = re.compile(r":[a-z0-9_+'-]+(?:::[a-z0-9_-]+)?:", re.IGNORECASE)
_CODE_FENCE = re.compile(r"```")
_MRKDWN_MARK = re.compile(r"[*~`]|(?<![a-z0-9])_|_(?![a-z0-9])", re.IGNORECASE)
_QUOTE_LINE = re.compile(r"^(?:>|&gt;)\s?", re.MULTILINE)
_SPACE = re.compile(r"\s+")
_ASCII_SEPARATORS = re.compile(r"[^A-Za-z0-9']+")
_MARKUP_CHAR = re.compile(r"[<>&:*_~`]")
"""Any character some Slack markup needs; text without one is already plain."""
_INVISIBLE = "\u00ad\u180e\u200b\u2060\u2061\u2062\u2063\u2064\ufeff"
"""Characters with no width that may sit inside a word ("road\u200bmap"): removed."""
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Bidirectional controls (embeddings, overrides, isolates, marks): removed."""
_DROP = str.maketrans(dict.fromkeys(_INVISIBLE + _BIDI))
_LETTER_WORD = re.compile(r"[^\W\d_]+")
"""Runs of letters (any script): the words whose case tells names from ordinary words."""
_MIN_SHOUTED_WORDS = 3
"""Fewer words than this ("SSO?", "PAY-142 owner") are too short to call a message shouted."""
_SURROGATE = re.compile("[\ud800-\udfff]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def clean(text: str) -> str:
    """Text as it may be stored, shown and matched: valid Unicode (a lone surrogate becomes
    U+FFFD), without zero-width characters or bidirectional controls. Idempotent."""
    if text.isascii():
        return text
    if _SURROGATE.search(text):
        # A surrogate pair that arrived as two code points is joined; a lone one is replaced.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.translate(_DROP)


def slack_to_plain(text: str) -> str:
    """Resolve Slack mrkdwn to plain text: mentions dropped, links to their labels, marks removed.

    Case is kept; see :func:`fold` for the comparable form.
    """
    text = clean(text[: MAX_QUESTION_CHARS * 2])
    if not _MARKUP_CHAR.search(text):  # plain text (most phrasings): nothing to resolve
        return _SPACE.sub(" ", text).strip()[:MAX_QUESTION_CHARS].rstrip()
    text = _USER_MENTION.sub(" ", text)
    text = _CHANNEL.sub(lambda m: f" {m.group(1) or ''} ", text)
    text = _SPECIAL.sub(lambda m: f" {_special_label(m.group(1), m.group(2))} ", text)
    text = _LINK.sub(lambda m: f" {m.group(2) or ''} ", text)
    text = _OTHER_ENTITY.sub(" ", text)
    text = _QUOTE_LINE.sub("", text)
    text = html.unescape(text)
    text = _EMOJI_CODE.sub(" ", text)
    text = _CODE_FENCE.sub(" ", text)
    text = _MRKDWN_MARK.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    return text[:MAX_QUESTION_CHARS].rstrip()


def unshout(text: str) -> str:
    """Text whose case says nothing about names, lowered: a message mostly in capitals ("WHO
    OWNS THE ROADMAP?") or with every word capitalised ("Who Owns The Roadmap?").

    Anything else is returned as it is, so an isolated capitalised word in an ordinary sentence
    ("the SSO rollout for Orbit") still reads as an acronym, id or name.
    """
    words = [w for w in _LETTER_WORD.findall(text[: MAX_QUESTION_CHARS * 2]) if len(w) >= 2]
    if len(words) < _MIN_SHOUTED_WORDS:
        return text
    capitals = sum(w.isupper() for w in words)
    initials = sum(w[0].isupper() for w in words)
    if capitals * 2 > len(words) or (capitals < len(words) and initials == len(words)):
        return text.lower()
    return text


def _special_label(kind: str, label: str | None) -> str:
    # <!subteam^S123|@product-team> names a group: keep its label as words, drop the @.
    if kind.startswith("subteam^") and label:
        return label.lstrip("@").replace("-", " ")
    # <!here>, <!channel>, <!everyone>, <!date^...|fallback>: nothing a question needs.
    if kind.startswith("date^") and label:
        return label
    return ""


def fold(text: str) -> str:
    """Lower case, no accents, compatible Unicode forms, straight apostrophes, single spaces.

    Symbols (emoji, punctuation other than apostrophes and hyphens inside words) become spaces.
    """
    text = clean(text).translate(_APOSTROPHES)
    if text.isascii():  # the common case, without a per-character loop
        folded = _ASCII_SEPARATORS.sub(" ", text).lower()
        folded = re.sub(r"(?<![a-z0-9])'|'(?![a-z0-9])", " ", folded)
        return _SPACE.sub(" ", folded).strip()
    text = unicodedata.normalize("NFKD", text)
    out: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Mn":  # combining accents
            continue
        if char.isalnum() or char == "'":
            out.append(char)
        elif char in "-/":
            out.append(" ")
        else:
            out.append(" " if category[0] in "PSZC" else char)
    folded = "".join(out).casefold()
    folded = re.sub(r"(?<![a-z0-9])'|'(?![a-z0-9])", " ", folded)
    return _SPACE.sub(" ", folded).strip()


def normalize(text: str) -> str:
    """Slack text to the comparable form used for matching and for phrasing equality.

    At most :data:`MAX_QUESTION_CHARS` characters: folding can lengthen text (one ligature
    like "ﷺ" unfolds to 18 characters), so the cut is made again after it.
    """
    return fold(slack_to_plain(text))[:MAX_QUESTION_CHARS].rstrip()
