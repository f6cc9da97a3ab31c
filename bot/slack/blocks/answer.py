"""Answers as Block Kit: answered, close call, clarify, unanswered, and the feedback replies."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.answers import Answer
from bot.core.knowledge import Entry, Knowledge, Role
from bot.slack.blocks.holders import People, people_line, role_people
from bot.slack.blocks.message import (
    CHOOSE_ROLE,
    HELPFUL,
    NEAREST,
    ROLE_DEFINITION,
    WRONG_ROLE,
    WRONG_ROLE_PICK,
    Message,
    action_id,
    message,
)
from bot.slack.blocks.safe import (
    Block,
    actions,
    button,
    clip,
    context,
    defang,
    echo,
    encode_value,
    escape,
    section,
)

QUESTION_IN_VALUE = 1500
"""Characters of the question a button carries back (enough to ask again and to log)."""


def question_value(question: str, **extra: str | None) -> str:
    """A button value carrying the question (as Slack sent it) and a few ids."""
    return encode_value({"q": clip(question, QUESTION_IN_VALUE), **extra})


def answer_message(
    answer: Answer,
    *,
    question: str,
    command: str = "/role",
    echo_question: bool = False,
    note: str | None = None,
    people: People | None = None,
) -> Message:
    """The reply to a question, whatever the outcome.

    ``question`` is the text as Slack sent it; ``note`` is a safe mrkdwn line shown under the
    answer (e.g. who chose a role in a close call); ``people`` are the channel's role holders
    (without them, or for a role nobody holds here, the workspace contacts are named).
    """
    asked = f"You asked: “{echo(question, 300)}”" if echo_question else None
    if answer.outcome == "answered" and answer.role is not None:
        if answer.entry is not None:
            return _answered(answer, answer.role, answer.entry, question, asked, note, people)
        return _definition(answer.role, question, command, asked, note, people)
    if answer.outcome == "close_call" and answer.roles:
        return _close_call(answer.roles, question, asked, people)
    if answer.outcome == "clarify" and answer.roles:
        return _clarify(answer.roles, question, asked, people)
    return _unanswered(answer.nearest, question, command)


def _feedback_buttons(role: Role, entry_id: str | None, question: str) -> Block:
    return actions(
        [
            button(":thumbsup: Helpful", HELPFUL, question_value(question, e=entry_id, r=role.id)),
            button(
                ":thumbsdown: Wrong role",
                WRONG_ROLE,
                question_value(question, e=entry_id, r=role.id),
            ),
            button("Role definition", action_id(ROLE_DEFINITION, role.id), role.id),
        ]
    )


def _answered(
    answer: Answer,
    role: Role,
    entry: Entry,
    question: str,
    asked: str | None,
    note: str | None,
    people: People | None = None,
) -> Message:
    distinction = escape(answer.distinction)
    matched = answer.result.best.phrasing if answer.result.best is not None else entry.questions[0]
    blocks: list[Block] = [
        section(f"{role.emoji} *{escape(role.name)}* owns this.\n{distinction}"),
        section(escape(entry.answer)),
    ]
    # A phrasing may be a question someone typed, promoted as it was: made inert like an echo.
    first = f"Matched FAQ: “{escape(defang(clip(matched, 300)))}”"
    blocks += _tail(role, entry.id, question, first, asked, note, people)
    text = f"{escape(role.name)}: {distinction} {escape(entry.answer)}"
    return message(text, blocks)


def _definition(
    role: Role,
    question: str,
    command: str,
    asked: str | None,
    note: str | None,
    people: People | None = None,
) -> Message:
    blocks: list[Block] = [
        section(
            f"{role.emoji} *{escape(role.name)}*: _{escape(role.question)}_\n"
            f"{escape(role.definition)}"
        )
    ]
    first = f"More: `{command} {escape(role.short_name.lower())}`"
    blocks += _tail(role, None, question, first, asked, note, people)
    return message(f"{escape(role.name)}: {escape(role.definition)}", blocks)


def _tail(
    role: Role,
    entry_id: str | None,
    question: str,
    first: str,
    asked: str | None,
    note: str | None,
    people: People | None = None,
) -> list[Block]:
    """What every role answer ends with: who to ask, a context line, the buttons."""
    blocks: list[Block] = []
    contacts = people_line(role, people)
    if contacts:
        blocks.append(section(contacts))
    blocks.append(context(*(line for line in (first, asked, note) if line)))
    blocks.append(_feedback_buttons(role, entry_id, question))
    return blocks


def _role_line(role: Role, people: People | None = None) -> str:
    line = f"{role.emoji} *{escape(role.name)}*: {escape(role.answers)}. _{escape(role.question)}_"
    return line + role_people(role, people)


def _names(roles: Sequence[Role]) -> str:
    names = [f"the *{escape(r.name)}*" for r in roles]
    if len(names) <= 2:
        return " or ".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _choice_buttons(roles: Sequence[Role], question: str, label: str) -> Block:
    return actions(
        [
            button(
                label.format(name=role.name),
                action_id(CHOOSE_ROLE, role.id),
                question_value(question, r=role.id),
            )
            for role in roles
        ]
    )


def _close_call(
    roles: Sequence[Role], question: str, asked: str | None, people: People | None = None
) -> Message:
    head = f"Close call: this could be {_names(roles)}. Which did you mean?"
    lines = "\n".join(_role_line(r, people) for r in roles)
    blocks: list[Block] = [section(head), section(lines)]
    if asked:
        blocks.append(context(asked))
    blocks.append(_choice_buttons(roles, question, "I meant the {name}"))
    return message(head, blocks)


def _clarify(
    roles: Sequence[Role], question: str, asked: str | None, people: People | None = None
) -> Message:
    head = f"Which one do you mean: {_names(roles)}?"
    lines = "\n".join(_role_line(r, people) for r in roles)
    blocks: list[Block] = [section(head), section(lines)]
    if asked:
        blocks.append(context(asked))
    blocks.append(_choice_buttons(roles, question, "The {name}"))
    return message(head, blocks)


def _unanswered(nearest: Sequence[Entry], question: str, command: str) -> Message:
    head = (
        "I don't know who owns that yet. I've passed the question to the curators, "
        "so it can be answered next time."
    )
    blocks: list[Block] = [section(head)]
    quoted = echo(question, 300)
    if nearest:
        blocks.append(section("The closest questions I can answer:"))
        blocks.append(
            actions(
                [
                    button(
                        entry.questions[0],
                        action_id(NEAREST, n),
                        question_value(question, e=entry.id),
                    )
                    for n, entry in enumerate(nearest[:5])
                ]
            )
        )
    lines = [f"You asked: “{quoted}”"] if quoted else []
    lines.append(f"Ask me “who owns …?” questions, or try `{command} help` for the roles.")
    blocks.append(context(*lines))
    return message(head, blocks)


# ---------------------------------------------------------------------- feedback replies
def wrong_role_prompt(
    knowledge: Knowledge, answered_role: str | None, value: dict[str, str]
) -> Message:
    """Asked after "Wrong role": which role should it have been?"""
    head = "Thanks for telling me. Which role should it have been?"
    others = [r for r in knowledge.roles.values() if r.id != answered_role]
    buttons = [
        button(
            role.name, action_id(WRONG_ROLE_PICK, role.id), encode_value({**value, "s": role.id})
        )
        for role in others
    ]
    buttons.append(button("Not sure", action_id(WRONG_ROLE_PICK, "unsure"), encode_value(value)))
    return message(head, [section(head), actions(buttons)])


def wrong_role_thanks(role: Role | None) -> Message:
    if role is None:
        text = "Thanks. The curators will look at this question again."
    else:
        text = (
            f"Thanks. The curators will review it: you said the *{escape(role.name)}* "
            "should own this."
        )
    return message(text, [section(text)])


def helpful_thanks() -> Message:
    text = "Thanks for the feedback!"
    return message(text, [section(text)])


def notice(text: str) -> Message:
    """A one-section message. ``text`` must already be safe mrkdwn."""
    return message(text, [section(text)])


SORRY = "Sorry, something went wrong on my side. Please try again in a moment."
