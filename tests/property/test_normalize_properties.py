"""The normaliser on any text: total, folded, bounded, stable, and free of Slack syntax."""

from __future__ import annotations

from hostile import INJECTIONS, SLACK_BITS, plain_question
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.normalize import MAX_QUESTION_CHARS, fold, normalize, slack_to_plain

_SILENT_MENTIONS = ("<@U024BE7LH>", "<@W0ABC|name>", "<!here>", "<!channel>", "<!everyone|all>")
"""Mentions that carry no words: a question reads the same with or without them."""


def assert_folded(text: str) -> None:
    """Lower case (Unicode case folding), single spaces, no leading or trailing space."""
    assert text == " ".join(text.split()), repr(text)
    # Case folding, not lower(): Cherokee folds to its capital letters, which lower() undoes.
    assert text.casefold() == text, repr(text)
    if text.isascii():
        assert text == text.lower()
        assert set(text) <= set("abcdefghijklmnopqrstuvwxyz0123456789' ")


@given(plain_question())
@example("\ufdfa" * 3000)  # one character that NFKD turns into 18
@example("\x00\x01\x02\x7f\x9f" * 10_000)
@example("<" * 50_000)
@example("&lt;!here&gt;" * 3000)
@settings(max_examples=300)
def test_normalize_is_total_folded_and_bounded(text: str) -> None:
    out = normalize(text)
    assert isinstance(out, str)
    assert len(out) <= MAX_QUESTION_CHARS
    assert_folded(out)


@given(plain_question())
@settings(max_examples=300)
def test_no_slack_syntax_survives(text: str) -> None:
    out = normalize(text)
    # Folding turns every symbol into a space, so no entity can be rebuilt from the pieces.
    for token in ("<", ">", "&", "@", "<@", "<!", "<#", "|", ":", "*", "`", "~"):
        assert token not in out, (token, out)


@given(plain_question())
@settings(max_examples=300)
def test_normalize_is_idempotent(text: str) -> None:
    """Phrasings are normalised when loaded and questions when asked: a second pass over an
    already-normal text must not move it, or an exact phrasing would stop matching itself."""
    once = normalize(text)
    assert normalize(once) == once
    assert fold(once) == once


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_fold_is_idempotent_and_folded(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert_folded(once)


def slack_escaped(text: str) -> str:
    """Text as Slack delivers what a person typed: ``&``, ``<`` and ``>`` escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_DELIVERED = st.lists(
    st.one_of(
        plain_question(max_parts=6, limit=300).map(slack_escaped), st.sampled_from(SLACK_BITS)
    ),
    max_size=8,
).map(" ".join)
"""Messages as Slack sends them: a raw ``<`` or ``>`` only ever opens or closes an entity."""


@given(st.sampled_from(_SILENT_MENTIONS), _DELIVERED, st.booleans())
@settings(max_examples=300)
def test_mentions_carry_no_words(mention: str, text: str, before: bool) -> None:
    """ "<@U…> who owns X" is the question "who owns X": the mention adds and removes nothing.

    (Raw text like "<!0" is not a message Slack can send: it escapes a typed "<".)
    """
    decorated = f"{mention} {text}" if before else f"{text} {mention}"
    assert normalize(decorated) == normalize(text)


@given(st.lists(st.sampled_from(SLACK_BITS + INJECTIONS), max_size=40).map("".join))
@settings(max_examples=200)
def test_markup_only_text_leaves_only_words(text: str) -> None:
    out = normalize(text)
    assert_folded(out)
    assert len(out) <= MAX_QUESTION_CHARS


@given(plain_question())
@settings(max_examples=200)
def test_slack_to_plain_is_total_and_bounded(text: str) -> None:
    plain = slack_to_plain(text)
    assert len(plain) <= MAX_QUESTION_CHARS
    assert plain == plain.strip()
    assert "  " not in plain
