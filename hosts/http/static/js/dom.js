// Building DOM nodes without HTML strings: every text from the server goes through textContent.

/** The element with the id `id`. */
export const $ = (id) => document.getElementById(id);

/**
 * Create an element.
 * @param {string} tag
 * @param {Record<string, any>} [attrs] attributes; `class`, `text`, `on<event>` handlers; null/false skip
 * @param {...any} children nodes or strings (strings become text nodes)
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/** Append nodes or strings (as text) to `el`, skipping null/false. */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Same-origin URL of a workspace file (`<upload_id>/<name>`), each segment encoded. */
export function fileUrl(name) {
  return "/v1/files/" + String(name).split("/").map(encodeURIComponent).join("/");
}

/** The last segment of a workspace name. */
export function baseName(name) {
  const parts = String(name).split("/");
  return parts[parts.length - 1];
}

/** A file size for people. */
export function formatSize(bytes) {
  if (typeof bytes !== "number") return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** "document.suggest_edits" -> "Suggest edits". */
export function skillTitle(name) {
  const short = String(name).split(".").pop() || String(name);
  const words = short.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A safe id fragment. */
export function slug(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}
