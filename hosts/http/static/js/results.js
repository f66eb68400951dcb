// Rendering results for people: summaries as text and bullets, tables as tables, tracked changes as
// a list, the model calls with a partner / in-house badge and the routing reasons; JSON as a fallback.

import { baseName, fileUrl, h, skillTitle } from "./dom.js";

/** Text with "- " / "1. " lines as lists, other lines as paragraphs. */
export function renderText(text) {
  const out = h("div", { class: "text" });
  let list = null;
  let listKind = "";
  for (const raw of String(text).split("\n")) {
    const line = raw.trimEnd();
    const bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    const item = bullet || numbered;
    if (item) {
      const kind = bullet ? "ul" : "ol";
      if (!list || listKind !== kind) {
        list = h(kind);
        listKind = kind;
        out.append(list);
      }
      list.append(h("li", { text: item[1] }));
      continue;
    }
    list = null;
    if (line.trim()) {
      const heading = /^#{1,6}\s+(.*)$/.exec(line);
      out.append(heading ? h("h4", { text: heading[1] }) : h("p", { text: line }));
    }
  }
  return out;
}

/** A table of rows (arrays or objects). */
export function renderTable(columns, rows, caption) {
  const cell = (v) =>
    v === null || v === undefined ? "" : Array.isArray(v) ? v.map((x) => (Array.isArray(x) ? x.map(plain).join(" ") : plain(x))).join(", ") : plain(v);
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption || "table" },
    h(
      "table",
      {},
      caption ? h("caption", { class: "visually-hidden", text: caption }) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", text: String(c) })))),
      h(
        "tbody",
        {},
        rows.slice(0, 200).map((r) =>
          h("tr", {}, columns.map((c, i) => h("td", { text: cell(Array.isArray(r) ? r[i] : r[c]) }))),
        ),
      ),
    ),
  );
}

function plain(v) {
  return typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
}

/** Word-level differences of two texts as <del>/<ins> runs. */
export function renderDiff(before, after) {
  const a = String(before).split(/(\s+)/);
  const b = String(after).split(/(\s+)/);
  const out = h("span", { class: "diff" });
  if (a.length * b.length > 250000) {
    out.append(h("del", { text: before }), " ", h("ins", { text: after }));
    return out;
  }
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  let i = 0;
  let j = 0;
  const push = (tag, text) => {
    const last = out.lastChild;
    if (last && last.nodeName.toLowerCase() === tag) last.textContent += text;
    else out.append(tag === "#text" ? document.createTextNode(text) : h(tag, { text }));
  };
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      push("#text", a[i]);
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      push("del", a[i++]); // deleted words first, then the inserted ones
    } else {
      push("ins", b[j++]);
    }
  }
  return out;
}

const HANDLED = new Set(["summary", "bullets", "answer", "citations", "found", "changed", "comments", "columns", "rows", "items", "notes", "diff", "output"]);

/**
 * The value of a result, rendered.
 * @param {any} value
 * @param {string} skill
 */
export function renderValue(value, skill) {
  const out = h("div", { class: "result" });
  if (value === null || value === undefined) {
    out.append(h("p", { class: "muted", text: "The skill returned nothing." }));
    return out;
  }
  if (typeof value !== "object") {
    out.append(renderText(String(value)));
    return out;
  }
  if (Array.isArray(value)) {
    out.append(renderAny(value, skillTitle(skill)));
    return out;
  }
  if (typeof value.summary === "string") {
    out.append(h("h3", { text: "Summary" }));
    const bullets = Array.isArray(value.bullets) ? value.bullets.filter((b) => typeof b === "string") : [];
    out.append(bullets.length > 1 ? h("ul", {}, bullets.map((b) => h("li", { text: b }))) : renderText(value.summary));
  }
  if (typeof value.answer === "string") {
    out.append(h("h3", { text: "Answer" }), renderText(value.answer));
    if (Array.isArray(value.citations) && value.citations.length) out.append(h("p", { class: "muted", text: `Sources: ${value.citations.map(plain).join(", ")}` }));
  }
  if (Array.isArray(value.changed)) {
    out.append(h("h3", { text: `Tracked changes (${value.changed.length})` }));
    if (!value.changed.length) out.append(h("p", { class: "muted", text: "No paragraph needed a change." }));
    out.append(
      h(
        "ol",
        { class: "changes" },
        value.changed.map((c) =>
          h("li", { class: "change" }, h("span", { class: "where", text: `Paragraph ${c.id ?? ""}` }), renderDiff(c.before ?? "", c.after ?? "")),
        ),
      ),
    );
    const counts = [];
    if (Array.isArray(value.unchanged) && value.unchanged.length) counts.push(`${value.unchanged.length} unchanged`);
    if (Array.isArray(value.rejected) && value.rejected.length) counts.push(`${value.rejected.length} rejected by the checks`);
    if (typeof value.revisions === "number") counts.push(`${value.revisions} revision marks`);
    if (counts.length) out.append(h("p", { class: "muted", text: counts.join(" · ") }));
  }
  if (Array.isArray(value.comments)) {
    out.append(h("h3", { text: `Comments (${value.comments.length})` }));
    out.append(
      h(
        "ul",
        {},
        value.comments.map((c) =>
          typeof c === "object" && c
            ? h("li", {}, c.quote ? h("q", { text: c.quote }) : null, c.quote ? " — " : null, String(c.comment ?? c.text ?? plain(c)))
            : h("li", { text: plain(c) }),
        ),
      ),
    );
  }
  if (Array.isArray(value.columns) && Array.isArray(value.rows)) {
    out.append(h("h3", { text: "Table" }), renderTable(value.columns, value.rows, "Table"));
  }
  if (Array.isArray(value.items)) {
    out.append(h("h3", { text: `Items (${value.items.length})` }), renderAny(value.items, "Items"));
  }
  if (typeof value.diff === "string" && value.diff) {
    out.append(h("h3", { text: "Diff" }), h("pre", { text: value.diff }));
  }
  const rest = Object.entries(value).filter(([k, v]) => !HANDLED.has(k) && !skipKey(k, v));
  if (rest.length) {
    const details = renderObject(Object.fromEntries(rest));
    const shown = out.childNodes.length > 0;
    out.append(shown ? h("details", { class: "more" }, h("summary", { text: "More details" }), details) : details);
  }
  if (Array.isArray(value.notes) && value.notes.length) {
    out.append(h("h3", { text: "Notes" }), h("ul", {}, value.notes.map((n) => h("li", { text: plain(n) }))));
  }
  return out;
}

function skipKey(key, value) {
  if (["unchanged", "rejected", "revisions", "cited", "fallback_steps"].includes(key)) return true;
  return value === null || (Array.isArray(value) && value.length === 0);
}

const flat = (v) => v === null || typeof v !== "object" || (Array.isArray(v) && v.every((x) => flat(x) && !(x && typeof x === "object" && !Array.isArray(x))));
const empty = (v) => v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length);

/** Any JSON value: arrays of flat records as tables, other records one by one, text as text. */
export function renderAny(value, caption) {
  if (Array.isArray(value)) {
    const records = value.length && value.every((v) => v && typeof v === "object" && !Array.isArray(v));
    if (records && value.every((v) => Object.values(v).every(flat))) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v)))];
      const columns = keys.filter((k) => !value.every((v) => empty(v[k])));
      return renderTable(columns, value, caption);
    }
    if (records) {
      return h(
        "div",
        { class: "records" },
        value.map((v, i) => h("section", { class: "record" }, h("h4", { text: recordTitle(v) || `${caption || "item"} ${i + 1}` }), renderObject(v))),
      );
    }
    return h("ul", {}, value.map((v) => h("li", {}, typeof v === "object" && v ? renderAny(v) : String(v))));
  }
  if (value && typeof value === "object") return renderObject(value);
  return renderText(String(value));
}

function recordTitle(v) {
  for (const key of ["title", "name", "sheet", "id"]) if (typeof v[key] === "string" && v[key]) return v[key];
  return "";
}

function renderObject(obj) {
  const dl = h("dl", { class: "kv" });
  for (const [key, value] of Object.entries(obj)) {
    dl.append(h("dt", { text: key.replace(/_/g, " ") }));
    if (value && typeof value === "object") dl.append(h("dd", { class: "wide" }, renderAny(value, key)));
    else if (typeof value === "string" && value.includes("\n")) dl.append(h("dd", {}, h("pre", { text: value })));
    else dl.append(h("dd", { text: value === null ? "—" : String(value) }));
  }
  return dl;
}

/** A track badge: shape and text, not colour alone. */
export function trackBadge(track) {
  const kind = track === "partner" ? "partner" : track === "in-house" ? "in-house" : "";
  const text = kind === "partner" ? "Partner" : kind === "in-house" ? "In-house" : "Model";
  const title = kind === "partner" ? "A partner's hosted model (data leaves your organisation)" : kind === "in-house" ? "An in-house model (data stays with you)" : "";
  return h("span", { class: `badge ${kind}`, title: title || null, "data-track": kind || "unknown", text });
}

/**
 * The model calls of a result: which model served each, its track, and why it was chosen.
 * @param {object} result the `result` event's data
 * @param {Map<string, object>} models name -> entry of GET /v1/models
 */
export function renderCalls(result, models) {
  const calls = Array.isArray(result.calls) ? result.calls : [];
  const box = h("section", { class: "routing", "aria-label": "Models used" });
  box.append(h("h3", { text: "Models used" }));
  if (!calls.length) {
    box.append(h("p", { class: "muted", text: "No model was called: this was computed locally." }));
  }
  const groups = new Map();
  for (const c of calls) {
    const key = c.model || "(none)";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(c);
  }
  const list = h("ul", { class: "calls" });
  for (const [model, group] of groups) {
    const card = models.get(model);
    const first = group[0];
    const d = first.decision || {};
    const why = h("ul", { class: "why" });
    const needs = [];
    if (d.requires && d.requires.length) needs.push(`needs ${d.requires.join(", ")}`);
    if (d.prefers && d.prefers.length) needs.push(`prefers ${d.prefers.join(", ")}`);
    if (d.sensitivity) needs.push(`${d.sensitivity} data`);
    if (needs.length) why.append(h("li", { text: needs.join(" · ") }));
    const cands = Array.isArray(d.candidates) ? d.candidates : [];
    if (cands.length) {
      const rank = cands.findIndex((c) => c.model === model);
      why.append(
        h(
          "li",
          {},
          rank === 0
            ? `best score of ${cands.length} qualifying model${cands.length > 1 ? "s" : ""}`
            : rank > 0
              ? `fallback #${rank} of ${cands.length} qualifying models`
              : `${cands.length} qualifying model(s)`,
          cands.length > 1 ? ` (${cands.map((c) => `${c.model} ${Number(c.score).toFixed(2)}`).join(", ")})` : "",
        ),
      );
    }
    for (const r of Array.isArray(d.rejected) ? d.rejected : []) why.append(h("li", { text: `not eligible: ${r.model} — ${r.reason}` }));
    const failed = group.flatMap((c) => (c.attempts || []).filter((a) => !a.ok));
    for (const a of failed.slice(0, 3)) why.append(h("li", { class: "error", text: `attempt on ${a.model} failed: ${a.outcome}${a.error ? ` (${a.error})` : ""}` }));
    const checks = group.flatMap((c) => c.checks || []).filter((c) => c && c.passed === false);
    if (checks.length) why.append(h("li", { text: `${checks.length} check(s) failed and escalated` }));
    list.append(
      h(
        "li",
        { class: "call", "data-model": model },
        h("div", { class: "head" }, h("span", { class: "model", text: model }), trackBadge(card ? card.track : ""), h("span", { class: "muted", text: `${group.length} call${group.length > 1 ? "s" : ""}` })),
        why,
      ),
    );
  }
  if (calls.length) box.append(list);
  const usage = result.usage || {};
  const bits = [];
  if (typeof usage.input_tokens === "number") bits.push(`${usage.input_tokens} in / ${usage.output_tokens ?? 0} out tokens`);
  if (typeof result.cost_usd === "number") bits.push(`$${result.cost_usd.toFixed(result.cost_usd < 0.01 ? 6 : 4)}`);
  if (typeof result.duration_s === "number") bits.push(`${result.duration_s.toFixed(2)} s`);
  if (result.sensitivity) bits.push(`sensitivity ${result.sensitivity}`);
  if (bits.length) box.append(h("p", { class: "usage", text: bits.join(" · ") }));
  if (result.explanation) {
    box.append(h("details", { class: "more" }, h("summary", { text: "Routing explanation" }), h("pre", { text: result.explanation })));
  }
  return box;
}

/**
 * Download links (and "Open" buttons) for files a call wrote.
 * @param {object[]} files entries of the result's `files`
 * @param {(file: object) => void} [onOpen]
 * @param {(event: Event, file: object) => void} [onDownload]
 */
export function renderFiles(files, onOpen, onDownload) {
  if (!Array.isArray(files) || !files.length) return null;
  return h(
    "section",
    { "aria-label": "Files written" },
    h("h3", { text: files.length > 1 ? "Files written" : "File written" }),
    h(
      "ul",
      { class: "files" },
      files.map((f) =>
        h(
          "li",
          {},
          h("a", { class: "download", href: fileUrl(f.name), download: baseName(f.name), onclick: onDownload ? (e) => onDownload(e, f) : null }, `Download ${baseName(f.name)}`),
          onOpen ? h("button", { type: "button", class: "link", onclick: () => onOpen(f), "aria-label": `Open ${baseName(f.name)} in the pane` }, "Open") : null,
        ),
      ),
    ),
  );
}

/** A problem document for people (title, detail, field errors, routing explanation). */
export function renderProblem(problem) {
  const box = h("div", { class: "problem", role: "alert" });
  box.append(h("p", {}, h("strong", { text: problem.title || "Failed" })));
  if (problem.detail) box.append(h("p", { text: problem.detail }));
  if (Array.isArray(problem.errors) && problem.errors.length) {
    box.append(h("ul", {}, problem.errors.map((e) => h("li", { text: `${e.field ?? ""}: ${e.message ?? ""}` }))));
  }
  if (typeof problem.explanation === "string" && problem.explanation) {
    box.append(h("details", { class: "more" }, h("summary", { text: "Routing explanation" }), h("pre", { text: problem.explanation })));
  }
  return box;
}

/** The raw JSON, collapsed. */
export function renderRaw(data) {
  return h("details", { class: "more" }, h("summary", { text: "Raw result (JSON)" }), h("pre", { text: JSON.stringify(data, null, 2) }));
}
