// Forms generated from a skill's JSON Schema: one labelled control per parameter, values read back typed.

import { baseName, h, slug } from "./dom.js";

/** The parameter's shape, with `anyOf: [X, null]` folded into X + nullable. */
export function describe(name, schema, required) {
  let s = schema || {};
  let nullable = false;
  if (Array.isArray(s.anyOf)) {
    const kept = s.anyOf.filter((v) => v && v.type !== "null");
    nullable = kept.length < s.anyOf.length;
    if (kept.length === 1) s = { ...kept[0], description: schema.description, default: schema.default, title: schema.title };
  }
  let kind = "json";
  if (Array.isArray(s.enum) && s.enum.every((v) => typeof v === "string")) kind = "enum";
  else if (s.type === "string") kind = "string";
  else if (s.type === "integer") kind = "integer";
  else if (s.type === "number") kind = "number";
  else if (s.type === "boolean") kind = "boolean";
  else if (s.type === "array" && s.items && Array.isArray(s.items.enum)) kind = "multi";
  else if (s.type === "array" && s.items && s.items.type === "string") kind = "list";
  return {
    name,
    kind,
    required,
    nullable,
    options: kind === "enum" ? s.enum : kind === "multi" ? s.items.enum : null,
    default: schema && "default" in schema ? schema.default : undefined,
    description: (schema && schema.description) || "",
    label: (schema && schema.title) || name.replace(/_/g, " "),
    minimum: s.minimum,
    maximum: s.maximum,
  };
}

const LONG_TEXT = /^(instruction|instructions|question|request|prompt|text|focus)$/;

/**
 * Build the form of one skill.
 * @param {object} skill an entry of GET /v1/skills
 * @param {{primary: string|null, file: object|null, files: object[]}} ctx the parameter taking the open file
 * @returns {{fields: HTMLElement, collect: () => {args: object, errors: object[]}, showErrors: (errors: object[]) => HTMLElement|null, clearErrors: () => void}}
 */
export function buildForm(skill, ctx) {
  const schema = skill.parameters || {};
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const roles = skill.path_parameters || {};
  const prefix = `f-${slug(skill.name)}`;
  const params = Object.entries(props).map(([name, s]) => describe(name, s, required.has(name)));
  const controls = new Map();

  const make = (p) => {
    const id = `${prefix}-${slug(p.name)}`;
    const hintId = `${id}-hint`;
    const errId = `${id}-err`;
    const describedBy = [p.description ? hintId : null, errId].filter(Boolean).join(" ");
    const hint = p.description ? h("p", { class: "hint", id: hintId, text: p.description }) : null;
    const err = h("p", { class: "field-error", id: errId, hidden: true });
    const role = roles[p.name];
    let control;
    let read;
    const label = h("label", { for: id }, p.label, p.required ? null : h("span", { class: "muted", text: " (optional)" }));

    if (role === "input" && p.kind === "string") {
      const names = ctx.files.map((f) => f.name);
      const current = p.name === ctx.primary && ctx.file ? ctx.file.name : null;
      control = h("select", { id, name: p.name, "aria-describedby": describedBy, required: p.required });
      if (!p.required || !current) control.append(h("option", { value: "", text: p.required ? "Choose a file" : "(none)" }));
      for (const n of names) control.append(h("option", { value: n, text: displayName(n, ctx.files) }));
      if (current) control.value = current;
      read = () => control.value;
    } else if (p.kind === "boolean") {
      control = h("input", { id, name: p.name, type: "checkbox", "aria-describedby": describedBy });
      control.checked = p.default === true;
      read = () => (control.checked === (p.default === true) && !p.required ? undefined : control.checked);
      const wrap = h("div", { class: "field check" }, h("label", { for: id }, control, h("span", { text: p.label })), hint, err);
      controls.set(p.name, { p, control, err, read });
      return wrap;
    } else if (p.kind === "enum") {
      control = h("select", { id, name: p.name, "aria-describedby": describedBy, required: p.required });
      if (p.default === undefined || p.default === null) control.append(h("option", { value: "", text: p.required ? "Choose…" : "(default)" }));
      for (const o of p.options) control.append(h("option", { value: o, text: o }));
      if (typeof p.default === "string") control.value = p.default;
      read = () => (control.value === "" || control.value === p.default ? undefined : control.value);
    } else if (p.kind === "multi") {
      const boxes = p.options.map((o) => {
        const box = h("input", { type: "checkbox", value: o, id: `${id}-${slug(o)}` });
        if (Array.isArray(p.default) && p.default.includes(o)) box.checked = true;
        return box;
      });
      control = h(
        "fieldset",
        { class: "group", id, "aria-describedby": describedBy },
        h("legend", { text: p.label + (p.required ? "" : " (optional)") }),
        boxes.map((b) => h("label", { class: "check", for: b.id }, b, h("span", { text: b.value }))),
      );
      read = () => {
        const picked = boxes.filter((b) => b.checked).map((b) => b.value);
        return picked.length ? picked : undefined;
      };
      const wrap = h("div", { class: "field" }, control, hint, err);
      controls.set(p.name, { p, control: boxes[0] || control, err, read });
      return wrap;
    } else if (p.kind === "list" || p.kind === "json" || (p.kind === "string" && LONG_TEXT.test(p.name))) {
      control = h("textarea", { id, name: p.name, rows: p.kind === "json" ? 4 : 2, "aria-describedby": describedBy, required: p.required, spellcheck: p.kind === "string" });
      if (p.kind === "list") control.placeholder = "one per line";
      if (p.kind === "json") control.placeholder = "JSON";
      if (typeof p.default === "string" && p.default) control.value = p.default;
      read = () => {
        const text = control.value.trim();
        if (!text) return undefined;
        if (p.kind === "list") return text.split(/[\n,]/).map((v) => v.trim()).filter(Boolean);
        if (p.kind === "json") return JSON.parse(text);
        return text === p.default ? undefined : text;
      };
    } else {
      const type = p.kind === "integer" || p.kind === "number" ? "number" : "text";
      control = h("input", { id, name: p.name, type, "aria-describedby": describedBy, required: p.required, autocomplete: "off" });
      if (type === "number") {
        control.step = p.kind === "integer" ? "1" : "any";
        if (typeof p.minimum === "number") control.min = String(p.minimum);
        if (typeof p.maximum === "number") control.max = String(p.maximum);
        control.inputMode = p.kind === "integer" ? "numeric" : "decimal";
      }
      if (role === "output" && ctx.file) control.placeholder = `default: next to ${baseName(ctx.file.name)}`;
      if (p.default !== undefined && p.default !== null) control.value = String(p.default);
      read = () => {
        const text = control.value.trim();
        if (!text) return undefined;
        if (p.kind === "integer") {
          if (!/^-?\d+$/.test(text)) throw new Error("enter a whole number");
          const n = Number(text);
          return n === p.default ? undefined : n;
        }
        if (p.kind === "number") {
          const n = Number(text);
          if (!Number.isFinite(n)) throw new Error("enter a number");
          return n === p.default ? undefined : n;
        }
        if (role === "output" && ctx.file && !text.includes("/")) {
          return `${ctx.file.upload_id}/${text}`; // outputs go into the upload's folder
        }
        return text === p.default ? undefined : text;
      };
    }
    controls.set(p.name, { p, control, err, read });
    return h("div", { class: "field" }, label, control, hint, err);
  };

  // up front: what must be given, the file, and the choices (style, kind, mode); the rest folded away
  const upFront = (p) => p.required || p.name === ctx.primary || (p.kind === "enum" && !roles[p.name]);
  const first = params.filter(upFront);
  const rest = params.filter((p) => !upFront(p));
  const fields = h(
    "div",
    {},
    first.map(make),
    rest.length ? h("details", { class: "more" }, h("summary", { text: `More options (${rest.length})` }), rest.map(make)) : null,
  );

  const clearErrors = () => {
    for (const { control, err } of controls.values()) {
      err.hidden = true;
      err.textContent = "";
      control.removeAttribute("aria-invalid");
    }
  };

  const showErrors = (errors) => {
    let firstBad = null;
    for (const e of errors) {
      const name = String(e.field || "").split(".")[0];
      const entry = controls.get(name);
      if (!entry) continue;
      entry.err.textContent = e.message || "invalid value";
      entry.err.hidden = false;
      entry.control.setAttribute("aria-invalid", "true");
      const details = entry.control.closest("details");
      if (details) details.open = true;
      firstBad = firstBad || entry.control;
    }
    return firstBad;
  };

  const collect = () => {
    const args = {};
    const errors = [];
    for (const [name, { p, read }] of controls) {
      let value;
      try {
        value = read();
      } catch (exc) {
        errors.push({ field: name, message: p.kind === "json" ? "not valid JSON" : exc.message });
        continue;
      }
      if (value === undefined || value === "") {
        if (p.required && p.kind !== "boolean") errors.push({ field: name, message: "required" });
        continue;
      }
      args[name] = value;
    }
    return { args, errors };
  };

  return { fields, collect, showErrors, clearErrors };
}

function displayName(name, files) {
  const base = baseName(name);
  const same = files.filter((f) => baseName(f.name) === base).length;
  return same > 1 ? `${base} (${name.split("/")[0]})` : base;
}
