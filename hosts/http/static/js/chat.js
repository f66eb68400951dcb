// The chat box: `ask` streamed; a write the model wants waits for the person's Approve or Decline.

import { asProblem, postJSON, streamEvents } from "./api.js";
import { $, baseName, h, replace, skillTitle } from "./dom.js";
import { renderCalls, renderFiles, renderProblem, renderText, trackBadge } from "./results.js";

/**
 * Wire the chat form.
 * @param {{models: () => Map<string, object>, onFilesChanged: () => void, onOpen: (f: object) => void, onDownload: (e: Event, f: object) => void}} deps
 */
export function initChat(deps) {
  const form = $("chat-form");
  const input = $("chat-input");
  const stop = $("chat-stop");
  const send = $("chat-send");
  let ctrl = null;

  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  stop.addEventListener("click", () => ctrl && ctrl.abort());

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const prompt = input.value.trim();
    if (!prompt || ctrl) return;
    input.value = "";
    const log = $("chat-log");
    log.append(h("li", { class: "msg user" }, h("span", { class: "who", text: "You" }), renderText(prompt)));
    const status = h("p", { class: "muted", text: "Thinking…" });
    const streamed = h("p", { class: "streamed", hidden: true });
    const body = h("div", {});
    const reply = h("li", { class: "msg assistant", "aria-busy": "true" }, h("span", { class: "who", text: "dualtrack" }), status, streamed, body);
    log.append(reply);
    reply.scrollIntoView({ block: "nearest" });
    ctrl = new AbortController();
    stop.hidden = false;
    send.disabled = true;
    const cards = new Map();
    let ended = false;
    try {
      for await (const { event, data } of streamEvents("/v1/ask?stream=1", { prompt }, ctrl.signal)) {
        if (event === "text") {
          streamed.hidden = false;
          streamed.textContent += data.delta || "";
        } else if (event === "confirm") {
          status.textContent = "Waiting for your answer…";
          const card = confirmCard(data);
          cards.set(data.call_id, card);
          body.append(card.el);
          card.heading.focus();
        } else if (event === "confirmed") {
          const card = cards.get(data.call_id);
          if (card) card.settle(data.decision);
          status.textContent = data.decision === "approve" ? "Running…" : "Thinking…";
        } else if (event === "result") {
          ended = true;
          status.remove();
          streamed.remove();
          body.append(renderText(typeof data.value === "string" ? data.value : JSON.stringify(data.value, null, 2)));
          const files = renderFiles(data.files, deps.onOpen, deps.onDownload);
          if (files) body.append(files);
          body.append(modelsLine(data, deps.models()));
          if (Array.isArray(data.files) && data.files.length) deps.onFilesChanged();
        } else if (event === "error") {
          ended = true;
          status.remove();
          body.append(renderProblem(data));
        }
      }
      if (!ended) body.append(renderProblem({ title: "The answer ended early", detail: "ask again" }));
    } catch (exc) {
      status.remove();
      if (exc && exc.name === "AbortError") body.append(h("p", { class: "muted", text: "Stopped." }));
      else body.append(renderProblem(asProblem(exc)));
    } finally {
      for (const card of cards.values()) card.settle(null);
      reply.removeAttribute("aria-busy");
      ctrl = null;
      stop.hidden = true;
      send.disabled = false;
      reply.scrollIntoView({ block: "nearest" });
    }
  });
}

function modelsLine(data, models) {
  const names = [...new Set((data.calls || []).map((c) => c.model).filter(Boolean))];
  const line = h("p", { class: "usage" }, names.length ? "Answered by " : "No model call.");
  names.forEach((n, i) => {
    const m = models.get(n);
    line.append(i ? ", " : "", h("strong", { text: n }), " ", trackBadge(m ? m.track : ""));
  });
  return h("div", {}, line, h("details", { class: "more" }, h("summary", { text: "Why these models" }), renderCalls(data, models)));
}

/** The card of one `confirm` event: what the model wants to run, Approve / Decline, a countdown. */
function confirmCard(data) {
  const id = `confirm-${String(data.call_id).replace(/[^a-z0-9]/gi, "")}`;
  const heading = h("h3", { id: `${id}-h`, tabindex: "-1", text: `Allow ${skillTitle(data.skill)}?` });
  const args = h("dl", { class: "kv" });
  for (const [k, v] of Object.entries(data.arguments || {})) {
    if (v === null || v === undefined) continue; // left to the skill's default
    const shown = typeof v === "string" ? (/^u[0-9a-f]{6,}\//.test(v) ? baseName(v) : v) : JSON.stringify(v);
    args.append(h("dt", { text: k.replace(/_/g, " ") }), h("dd", { text: shown, title: typeof v === "string" ? v : null }));
  }
  const outcome = h("p", { class: "outcome", role: "status" });
  const timer = h("p", { class: "hint", "aria-live": "off" });
  const approve = h("button", { type: "button", class: "primary", text: "Approve" });
  const decline = h("button", { type: "button", text: "Decline" });
  const el = h(
    "div",
    { class: "confirm", role: "group", "aria-labelledby": heading.id, "data-call-id": data.call_id },
    heading,
    h("p", { text: `${data.skill} ${data.effects === "write" ? "writes a file" : "runs"}: ${data.description || ""}` }),
    args,
    timer,
    h("div", { class: "actions" }, approve, decline),
    outcome,
  );
  let left = Number(data.timeout_s) || 0;
  const tick = () => {
    timer.textContent = left > 0 ? `Answer within ${Math.ceil(left)} s, or it is declined.` : "";
    left -= 1;
  };
  tick();
  const interval = setInterval(tick, 1000);
  let settled = false;
  const settle = (decision) => {
    if (settled) return;
    if (decision === null) {
      clearInterval(interval);
      approve.disabled = decline.disabled = true;
      return;
    }
    settled = true;
    clearInterval(interval);
    timer.textContent = "";
    approve.disabled = decline.disabled = true;
    outcome.textContent = { approve: "Approved.", decline: "Declined: nothing was written.", timeout: "No answer in time: declined." }[decision] || String(decision);
  };
  const answer = async (decision) => {
    approve.disabled = decline.disabled = true;
    const url = String(data.confirm_url || "");
    if (!url.startsWith("/v1/ask/")) {
      outcome.textContent = "The service sent an unexpected confirmation address; nothing was sent.";
      return;
    }
    try {
      await postJSON(url, { call_id: data.call_id, decision });
      if (!settled) outcome.textContent = decision === "approve" ? "Approved; running…" : "Declining…";
    } catch (exc) {
      const p = asProblem(exc);
      replace(outcome, p.detail || p.title);
    }
  };
  approve.addEventListener("click", () => answer("approve"));
  decline.addEventListener("click", () => answer("decline"));
  return { el, heading, settle };
}
