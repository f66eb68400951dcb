"""The ``/docs`` page: plain HTML rendered from the OpenAPI document (no script, no network)."""

from __future__ import annotations

import html
import json
from typing import Any

from ._problems import PROBLEM_TYPES, problem_type

__all__ = ["docs_html"]


def docs_html(doc: dict[str, Any]) -> str:
    """A self-contained HTML page describing every operation of ``doc`` (no script, no network)."""
    esc = html.escape
    schemas = doc.get("components", {}).get("schemas", {})
    rows: list[str] = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            body = ""
            content = op.get("requestBody", {}).get("content", {})
            for media, spec in content.items():
                schema = spec.get("schema", {})
                ref = schema.get("$ref", "")
                shown = schemas.get(ref.rsplit("/", 1)[-1], schema) if ref else schema
                body += (
                    f"<details><summary>request body ({esc(media)})</summary>"
                    f"<pre>{esc(json.dumps(shown, indent=2))}</pre></details>"
                )
            statuses = ", ".join(esc(s) for s in op.get("responses", {}))
            anchor = esc(op.get("operationId", f"{method}-{path}"))
            rows.append(
                f'<section id="{anchor}"><h3><span class="m {esc(method)}">{esc(method.upper())}</span> '
                f"<code>{esc(path)}</code></h3><p>{esc(op.get('summary', ''))}</p>"
                + (f"<p class='d'>{esc(op.get('description', ''))}</p>" if op.get("description") else "")
                + f"{body}<p class='r'>responses: {statuses}</p></section>"
            )
    problems = "".join(
        f"<li><code>{esc(problem_type(slug))}</code> ({status}): {esc(title)}</li>"
        for slug, (status, title) in sorted(PROBLEM_TYPES.items())
    )
    info = doc["info"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(info["title"])} API {esc(info["version"])}</title>
<style>
body{{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#1b1b1b}}
section{{border-top:1px solid #ddd;padding:.4rem 0}} h3{{margin:.4rem 0;font-size:1rem}}
.m{{display:inline-block;min-width:4.2em;padding:.1em .4em;border-radius:4px;color:#fff;font-size:.8em;
text-align:center}}
.get{{background:#2b6cb0}} .post{{background:#2f855a}} .delete{{background:#c53030}}
pre{{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:.85em}} .d{{white-space:pre-wrap;color:#444}}
.r{{color:#666;font-size:.85em}} a:focus,summary:focus{{outline:3px solid #2b6cb0}}
</style></head><body>
<h1>{esc(info["title"])} API <small>{esc(info["version"])}</small></h1>
<p>{esc(info.get("description", ""))} The machine-readable document is
<a href="/openapi.json">/openapi.json</a> (OpenAPI {esc(doc["openapi"])}).
Send <code>Accept: text/event-stream</code> (or <code>?stream=1</code>) to get
<code>progress</code>, <code>text</code> and <code>confirm</code> events before one <code>result</code> or
<code>error</code>.</p>
{"".join(rows)}
<h2>Problem types</h2><p>Every failure is <code>application/problem+json</code> with one of these types:</p>
<ul>{problems}</ul>
</body></html>
"""
