"""A fast, deterministic stand-in model for document skills (used through FunctionConnector).

It reads the delimited document block of each prompt and answers in the shape
the skill asked for, citing ids that really occur in the block, so tests can
check the plumbing (chunking, citations, anchoring, writing) without a model.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dualtrack import CompletionRequest

BLOCK = re.compile(r"<(document|passage)>\n(.*)\n</\1>", re.S)
LINE = re.compile(r"^\[([^\]]+)\]\s?(.*)$")


def data_of(request: CompletionRequest) -> str:
    """The text inside the last prompt's delimited block."""
    m = BLOCK.search(request.messages[-1].content)
    return m.group(2) if m else ""


def lines_of(text: str) -> list[tuple[str, str]]:
    """``(id, text)`` of each ``[id] text`` line, markdown markers removed."""
    out = []
    for line in text.splitlines():
        m = LINE.match(line.strip())
        if m:
            out.append((m.group(1), re.sub(r"^(#+|-|\d+\.)\s+", "", m.group(2)).strip()))
    return out


def _answer(request: CompletionRequest) -> dict[str, Any]:
    prompt = request.messages[-1].content
    question = prompt.split("Question:", 1)[1].split("\n", 1)[0] if "Question:" in prompt else prompt
    words = {w for w in re.findall(r"\w+", question.lower()) if len(w) > 4}
    best = [(len(words & set(re.findall(r"\w+", t.lower()))), i, t) for i, t in lines_of(data_of(request))]
    best = [b for b in best if b[0] > 0]
    if not best:
        return {"answer": "not stated", "citations": [], "found": False}
    _, block_id, text = max(best, key=lambda b: b[0])
    return {"answer": text, "citations": [block_id], "found": True}


def _items(schema: dict[str, Any], text: str) -> dict[str, Any]:
    defs = " ".join(schema.get("$defs", {}))
    rows = lines_of(text)
    if "ActionItem" in defs:
        items = [
            {
                "task": t,
                "owner": t.split(" will ")[0],
                "due": t.rsplit(" by ", 1)[-1].rstrip(".") if " by " in t else None,
                "source": [i],
            }
            for i, t in rows
            if " will " in t
        ]
    elif "Decision" in defs:
        items = [{"decision": t, "source": [i]} for i, t in rows if "decision" in t.lower()]
    elif "DateMention" in defs:
        items = [
            {"date": m.group(0), "event": t, "source": [i]}
            for i, t in rows
            if (m := re.search(r"\d{1,2} (June|July)", t))
        ]
    else:
        names = {m.group(0): i for i, t in rows for m in re.finditer(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b", t)}
        items = [{"name": n, "source": [i]} for n, i in names.items()]
    return {"items": items}


def _json_reply(request: CompletionRequest) -> Any:
    schema = request.json_schema or {}
    props = schema.get("properties", {})
    text = data_of(request)
    if "found" in props:
        return _answer(request)
    if "comments" in props:
        rows = [(i, t) for i, t in lines_of(text) if len(t.split()) > 3]
        return {
            "comments": [
                {"id": i, "quote": " ".join(t.split()[1:3]), "comment": f"Consider clarifying this ({i})."}
                for i, t in rows[:2]
            ]
        }
    if "columns" in props:
        rows = [line.split() for line in text.splitlines() if line.strip()]
        return {"columns": ["Item", "Detail"], "rows": [[r[0], " ".join(r[1:])] for r in rows]}
    if "items" in props:
        return _items(schema, text)
    return {}


def smart_reply(request: CompletionRequest) -> str:
    """Answer any document-skill prompt plausibly and deterministically."""
    if request.json_schema is not None:
        return json.dumps(_json_reply(request))
    prompt = request.messages[-1].content
    text = data_of(request)
    rows = lines_of(text)
    if prompt.startswith("Summarize"):
        cited = rows[0][0] if rows else "p1"
        return f"- The part covers {rows[0][1][:40] if rows else 'nothing'} [{cited}]\n- It has {len(rows)} blocks."
    if prompt.startswith("These are summaries"):
        ids = re.findall(r"\[(p\d+)\]", text)
        return f"- Combined summary of {text.count('Part ')} parts [{ids[0] if ids else 'p1'}]"
    if prompt.startswith("Rewrite"):
        return text.replace("fell", "dropped").replace("delivered", "shipped")
    if prompt.startswith("Write new content"):
        return (
            "## Next steps\n\nThe team will **finish** the rollout in *August*.\n\n"
            "- Train the staff\n- Close the old depot\n\n1. Plan\n2. Execute\n\n"
            "| Step | Owner |\n|---|---|\n| Train | Maria |\n"
        )
    if "paragraph-level diff" in prompt:
        return f"The new version has {text.count(chr(10)) + 1} changed lines."
    return "OK"
