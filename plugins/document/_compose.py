"""``draft`` and ``to_table``: new content written with the document's own styles."""

from __future__ import annotations

import re
from collections.abc import Sequence

import docx

from dualtrack import ArgumentError, InputFileError, SkillContext
from dualtrack.checks import Check, degenerate, grounded, on_parts, preserved_facts

from ._chunks import DEFAULT_CHUNK_TOKENS, truncate
from ._markdown import parse_markdown
from ._models import DraftResult, TableReply, TableResult
from ._package import load, resolve_output, save_document
from ._prompts import SYSTEM, draft_prompt, table_prompt
from ._targets import anchor_for, resolve_targets
from ._writer import Inserter
from ._xml import paragraph_text, qn

__all__ = ["run_draft", "run_to_table", "split_rows", "table_check"]

_MARKER = re.compile(r"^\s*(?:[-*+\u2022\u2013]|\d{1,3}[.)])\s+")
_DELIMITERS = ("\t", " | ", "|", ";", " \u2013 ", " - ", ": ", ",")


async def run_draft(
    ctx: SkillContext,
    path: str | None,
    instructions: str,
    *,
    outline: Sequence[str] | None,
    after: str | None,
    output: str | None,
    in_place: bool,
    chunk_tokens: int | None,
) -> DraftResult:
    """Draft new content (see ``DocumentPlugin.draft``).

    The draft must be no loop, no echo of the prompt, and keep every number,
    date, name and link of the ``outline`` (the user's notes); a failing one is
    fed back once, then escalated. There is no sensible fallback for new
    content: where no model's draft passes, :class:`~dualtrack.CheckFailedError`
    is raised and nothing is written.
    """
    budget = chunk_tokens or DEFAULT_CHUNK_TOKENS
    if path is None:
        if not output:
            raise ArgumentError(
                ctx.skill.full_name, [("output", "give an output .docx path for a new document")]
            )
        target = ctx.output_path(None, "", output=output)  # a new file: roots and the no-link rule apply
        if target.suffix.lower() != ".docx":
            raise InputFileError(str(target), "the output must be a .docx path")
        document, anchor, context, where = docx.Document(), None, "", "new document"
    else:
        doc = await load(ctx, path)
        target = resolve_output(ctx, doc.path, output, "drafted", in_place=in_place)
        anchor = anchor_for(doc.view, after, ctx.skill.full_name)
        document, context = doc.document, truncate(doc.view.render(), budget // 2)
        where = f"after {after}" if anchor is not None else "end of document"
    notes = "\n".join(outline or [])
    checks: list[Check] = [degenerate(max_ratio=1e6)]  # a draft may be far longer than its notes
    if notes:
        checks.append(preserved_facts(placeholders=False))
    done = await ctx.generate_checked(
        draft_prompt(instructions, list(outline or []), context),
        checks=checks,
        source=notes,
        system=SYSTEM,
        max_tokens=900,
        temperature=0.4,
    )
    blocks = parse_markdown(done.text)
    if not blocks:
        raise ArgumentError(
            ctx.skill.full_name, [("instructions", "the model wrote nothing; rephrase the request")]
        )
    written = Inserter(document, anchor).markdown(blocks)
    ctx.progress(1, 1, f"drafted {written} blocks")
    return DraftResult(
        output=await save_document(document, target), blocks=written, text=done.text.strip(), position=where
    )


def table_check() -> Check:
    """Rows of a :class:`TableReply` are no loop and use the passage's own words."""
    return on_parts(
        lambda r: [" ".join(str(c) for c in row) for row in r.rows],
        degenerate(),
        grounded(),
        name="table-rows",
    )


def split_rows(lines: Sequence[str], delimiter: str | None) -> list[list[str]] | None:
    """Split lines into cells without a model, or return ``None`` when no delimiter fits.

    With ``delimiter`` every line is split on it. Otherwise a common delimiter is
    looked for that every line (two or more) contains the same number of times.
    """
    if not delimiter and len(lines) < 2:
        return None
    candidates = [delimiter] if delimiter else list(_DELIMITERS)
    for sep in candidates:
        counts = {line.count(sep) for line in lines}
        if delimiter or (len(counts) == 1 and counts != {0}):
            return [[cell.strip() for cell in line.split(sep)] for line in lines]
    return None


async def run_to_table(
    ctx: SkillContext,
    path: str,
    *,
    paragraphs: Sequence[str] | None,
    section: str | None,
    match: str | None,
    columns: Sequence[str] | None,
    delimiter: str | None,
    output: str | None,
    in_place: bool,
) -> TableResult:
    """Turn a list-like passage into a table (see ``DocumentPlugin.to_table``).

    Without a delimiter the model splits the lines: its reply must be valid JSON
    whose rows are no loop and use the passage's own words; a failing one is
    fed back once, then escalated. Where no model's table passes,
    :class:`~dualtrack.CheckFailedError` is raised and the passage stays as it was.
    """
    if not (paragraphs or section or match):
        raise ArgumentError(
            ctx.skill.full_name, [("paragraphs", "say which passage: paragraphs, section or match")]
        )
    doc = await load(ctx, path)
    target = resolve_output(ctx, doc.path, output, "table", in_place=in_place)
    units = [
        u
        for u in resolve_targets(
            doc.view, ctx.skill.full_name, paragraphs=paragraphs, section=section, match=match
        )
        if u.id.startswith("p")
    ]
    if not units:
        raise ArgumentError(ctx.skill.full_name, [("paragraphs", "a table can replace body paragraphs only")])
    lines = [_MARKER.sub("", paragraph_text(u.p)).strip() for u in units]
    rows = split_rows(lines, delimiter)
    used_model = rows is None
    header: list[str] = []
    if rows is None:
        checked = await ctx.generate_checked(
            table_prompt("\n".join(lines), list(columns or [])),
            schema=TableReply,
            checks=[table_check()],
            source="\n".join(lines),
            system=SYSTEM,
            max_tokens=900,
        )
        reply: TableReply = checked.value
        header, rows = list(reply.columns), reply.rows
    if columns:
        header = list(columns)
    width = max([len(header), *(len(r) for r in rows)])
    header += [f"Column {i}" for i in range(len(header) + 1, width + 1)]
    grid = [header] + [[str(c) for c in r][:width] + [""] * (width - len(r)) for r in rows]
    Inserter(doc.document, units[0].p, before=True).table(grid)
    for u in units:
        if u.p.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is None and u.p.getparent() is not None:
            u.p.getparent().remove(u.p)
    ctx.progress(1, 1, "table written")
    return TableResult(
        output=await save_document(doc.document, target),
        columns=header,
        rows=len(rows),
        replaced=[u.id for u in units],
        used_model=used_model,
    )
