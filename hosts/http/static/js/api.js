// Talking to the service: JSON calls, uploads, and Server-Sent Events read from a POST (fetch streaming).

const KEY_STORE = "dualtrack.apiKey";

/** A failed call, carrying the service's problem document. */
export class ApiError extends Error {
  /**
   * @param {Record<string, any>} problem the problem document (title, detail, status, errors ...)
   */
  constructor(problem) {
    super(problem.detail || problem.title || "the request failed");
    this.problem = problem;
    this.status = problem.status || 0;
  }
}

/** The problem document of a failure: the service's own, or one made from the exception. */
export function asProblem(exc) {
  return exc instanceof ApiError ? exc.problem : { title: "Failed", detail: String(exc) };
}

/** The API key of this tab, if one was entered. */
export function apiKey() {
  try {
    return sessionStorage.getItem(KEY_STORE) || "";
  } catch {
    return "";
  }
}

/** Keep (or forget, with "") the API key for this tab. */
export function setApiKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORE, key);
    else sessionStorage.removeItem(KEY_STORE);
  } catch {
    /* storage unavailable: the key lasts until reload */
  }
  memoryKey = key;
}
let memoryKey = "";

function headers(extra = {}) {
  const out = { ...extra };
  const key = apiKey() || memoryKey;
  if (key) out.Authorization = `Bearer ${key}`;
  return out;
}

/** Listeners told when the service asks for credentials (401). */
export const onUnauthorized = new Set();

async function problemOf(resp) {
  let doc = null;
  try {
    doc = await resp.json();
  } catch {
    doc = null;
  }
  if (!doc || typeof doc !== "object") doc = { title: resp.statusText || "Request failed", detail: "" };
  doc.status = doc.status || resp.status;
  if (resp.status === 401) onUnauthorized.forEach((fn) => fn(doc));
  return new ApiError(doc);
}

async function call(method, path, { json, body, signal, accept } = {}) {
  const init = { method, signal, headers: headers(accept ? { Accept: accept } : {}), credentials: "same-origin" };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (exc) {
    if (exc && exc.name === "AbortError") throw exc;
    throw new ApiError({ title: "The service cannot be reached", detail: "check that `dualtrack serve` is running" });
  }
  if (!resp.ok) throw await problemOf(resp);
  return resp;
}

/** GET a JSON document. */
export async function getJSON(path, signal) {
  return (await call("GET", path, { signal })).json();
}

/** POST a JSON body, read a JSON answer. */
export async function postJSON(path, data, signal) {
  return (await call("POST", path, { json: data, signal })).json();
}

/** Upload one file into the workspace; resolves to its description. */
export async function uploadFile(file, signal) {
  const form = new FormData();
  form.append("file", file, file.name);
  return (await call("POST", "/v1/files", { body: form, signal })).json();
}

/** Download a workspace file as a Blob (used when an API key must be sent). */
export async function downloadBlob(path) {
  return (await call("GET", path)).blob();
}

/** Whether plain links can download (no key to send). */
export function linksNeedKey() {
  return Boolean(apiKey() || memoryKey);
}

/**
 * POST `data` and yield the Server-Sent Events of the answer as {event, data}.
 * @param {string} path
 * @param {any} data
 * @param {AbortSignal} [signal] aborting closes the connection (the service then cancels the call)
 */
export async function* streamEvents(path, data, signal) {
  const resp = await call("POST", path, { json: data, signal, accept: "text/event-stream" });
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseBlock(block);
        if (event) yield event;
      }
    }
    const last = parseBlock(buffer);
    if (last) yield last;
  } finally {
    reader.releaseLock();
  }
}

/** One SSE block -> {event, data}; comments (keep-alives) give null. */
export function parseBlock(block) {
  let event = "message";
  const data = [];
  for (const raw of block.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  const text = data.join("\n");
  try {
    return { event, data: JSON.parse(text) };
  } catch {
    return { event, data: { text } };
  }
}
