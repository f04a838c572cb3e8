"""Where a recorded fact came from, as each way of recording names it: the command line's
`--document`/`--paragraph` and the Slack record form's "Source" field both become a
`Source` here, and nowhere else."""

from __future__ import annotations

from domain.provenance import Source


def typed(text: str | None) -> Source | None:
    """The source a person typed: a link (a chat reference), or a document symbol with
    an optional paragraph after ¶ ("UNEP/CMS/StC44/18 ¶8"); None when nothing was."""
    text = (text or "").strip()
    if not text:
        return None
    if text.startswith(("http://", "https://")):
        return Source(chat=text)
    document, _, paragraph = text.partition("¶")
    return Source(document=document.strip() or text, paragraph=paragraph.strip() or None)


def command_line(user: str, document: str | None, paragraph: str | None) -> Source:
    """The document (and paragraph) given, else the command line itself: who ran it (the
    event's own timestamp says when)."""
    return Source(document, paragraph) if document else Source.command_line(user)


def slack_form(text: str | None, *, team: str, channel: str | None,
               message_ts: str | None) -> Source:
    """What the form's "Source" says, else the message it was opened from
    (team/channel/ts), else the channel."""
    said = typed(text)
    if said is not None:
        return said
    if channel and message_ts:
        return Source(chat=f"{team}/{channel}/{message_ts}")
    return Source(chat="/".join(p for p in (team, channel) if p) or "slack")
