"""What the bot tests share: a check that a message keeps within Slack's Block Kit limits."""

from __future__ import annotations

from cmsbot.slack import blocks


def within_limits(message: blocks.Message) -> None:
    """`message` has a fallback text and keeps every Block Kit limit the bot relies on."""
    assert message.text
    assert len(message.text) <= blocks.MAX_FALLBACK
    assert 0 < len(message.blocks) <= blocks.MAX_BLOCKS
    for block in message.blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= blocks.MAX_HEADER
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= blocks.MAX_TEXT
            assert len(block.get("fields", [])) <= 10
        for element in block.get("elements", []):
            assert len(element.get("text", "")) <= blocks.MAX_TEXT \
                if isinstance(element.get("text"), str) else True
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= blocks.MAX_BUTTON_TEXT
                assert len(element["value"]) <= blocks.MAX_BUTTON_VALUE
        if block["type"] == "actions":
            ids = [e["action_id"] for e in block["elements"]]
            assert len(ids) == len(set(ids)) <= blocks.MAX_BUTTONS
