// The task pane: open a file, pick a skill that applies to it, fill its form, run it with live
// progress, read the result and the models that served it, download what it wrote.

import { asProblem, downloadBlob, getJSON, linksNeedKey, onUnauthorized, setApiKey, streamEvents, uploadFile } from "./api.js";
import { initChat } from "./chat.js";
import { $, baseName, fileUrl, formatSize, h, replace, skillTitle } from "./dom.js";
import { buildForm } from "./forms.js";
import { renderCalls, renderFiles, renderProblem, renderRaw, renderValue, trackBadge } from "./results.js";
import { applies, primaryParam } from "./skills.js";

const LEVELS = ["public", "general", "confidential", "highly-confidential"];

const state = {
  skills: [],
  models: new Map(),
  file: null,
  files: [],
  skill: null,
  form: null,
  pending: null,
  run: null,
};

// -- tabs ------------------------------------------------------------------------------------------

function initTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab, focus) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab, false));
    tab.addEventListener("keydown", (e) => {
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length], true);
    });
  });
}

// -- models and skills -------------------------------------------------------------------------------

async function loadCatalog() {
  const [models, skills] = await Promise.all([getJSON("/v1/models"), getJSON("/v1/skills")]);
  state.models = new Map(models.map((m) => [m.name, m]));
  state.skills = skills;
  const enabled = models.filter((m) => m.enabled);
  const inhouse = enabled.filter((m) => m.track === "in-house").length;
  const partner = enabled.filter((m) => m.track === "partner").length;
  replace(
    $("models-summary"),
    `${enabled.length} model${enabled.length === 1 ? "" : "s"}: `,
    inhouse ? [trackBadge("in-house"), ` ${inhouse} `] : null,
    partner ? [trackBadge("partner"), ` ${partner}`] : null,
  );
  renderSkills();
}

async function refreshFiles() {
  try {
    state.files = await getJSON("/v1/files");
  } catch {
    return;
  }
  const select = $("recent-select");
  replace(select, h("option", { value: "", text: `${state.files.length} file${state.files.length === 1 ? "" : "s"}` }));
  for (const f of state.files) select.append(h("option", { value: f.name, text: `${baseName(f.name)} (${formatSize(f.size)})` }));
  select.value = "";
  $("recent").hidden = state.files.length === 0;
}

// -- the open file -----------------------------------------------------------------------------------

function setStatus(el, text, error = false) {
  el.textContent = text;
  el.classList.toggle("error", error);
}

async function openUpload(file) {
  if (!file) return;
  const status = $("upload-status");
  setStatus(status, `Uploading ${file.name}…`);
  try {
    const stored = await uploadFile(file);
    await refreshFiles();
    useFile(stored);
    setStatus(status, `Opened ${stored.filename || baseName(stored.name)}.`);
  } catch (exc) {
    const p = asProblem(exc);
    setStatus(status, `${file.name} was not opened: ${p.detail || p.title}`, true);
  } finally {
    $("file-input").value = "";
  }
}

function useFile(file) {
  state.file = file;
  const meta = h("div", { class: "file-meta" });
  meta.append(h("span", { class: "muted", text: formatSize(file.size) }));
  if (file.sensitivity) meta.append(h("span", { class: "badge label", title: "The file's sensitivity label", text: `Label: ${file.sensitivity}` }));
  meta.append(downloadLink(file, `Download`));
  replace($("file-current"), h("p", { class: "name", text: baseName(file.name) }), meta);
  hideWork();
  renderSkills();
}

function downloadLink(file, text) {
  return h("a", { class: "download", href: fileUrl(file.name), download: baseName(file.name), onclick: (e) => download(e, file) }, text);
}

async function download(event, file) {
  if (!linksNeedKey()) return; // a plain link downloads
  event.preventDefault();
  const url = URL.createObjectURL(await downloadBlob(fileUrl(file.name)));
  const a = h("a", { href: url, download: baseName(file.name) });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function initFile() {
  const input = $("file-input");
  $("open-file").addEventListener("click", () => input.click());
  input.addEventListener("change", () => openUpload(input.files[0]));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    openUpload(e.dataTransfer.files[0]);
  });
  $("recent-select").addEventListener("change", (e) => {
    const f = state.files.find((x) => x.name === e.target.value);
    if (f) {
      useFile(f);
      setStatus($("upload-status"), `Opened ${baseName(f.name)}.`);
    }
  });
}

// -- skills for the file ---------------------------------------------------------------------------

function renderSkills() {
  const box = $("skill-list");
  if (!state.file) {
    replace(box, h("p", { class: "muted", text: "No file open yet." }));
    return;
  }
  const fitting = state.skills.filter((s) => applies(s, state.file));
  if (!fitting.length) {
    replace(box, h("p", { class: "muted", text: `No skill works on ${baseName(state.file.name)}. Try the chat.` }));
    return;
  }
  const group = h("fieldset", { class: "skill-options" }, h("legend", { text: `${fitting.length} skills for ${baseName(state.file.name)}` }));
  for (const skill of fitting) {
    const id = `skill-${skill.name.replace(/[^a-z0-9]+/gi, "-")}`;
    const radio = h("input", { type: "radio", name: "skill", id, value: skill.name, "aria-describedby": `${id}-desc` });
    radio.addEventListener("change", () => selectSkill(skill));
    group.append(
      h(
        "label",
        { class: "skill-option", for: id },
        radio,
        h(
          "span",
          {},
          h("span", { class: "title", text: skillTitle(skill.name) }),
          skill.effects === "write" ? h("span", { class: "badge write", title: "Writes a file (asks first)", text: "writes" }) : null,
          h("span", { class: "desc", id: `${id}-desc`, text: firstLine(skill.description) }),
        ),
      ),
    );
  }
  replace(box, group);
}

function firstLine(text) {
  return String(text || "").split("\n")[0];
}

function hideWork() {
  $("skill-form-card").hidden = true;
  $("write-confirm").hidden = true;
  if (!state.run) $("run-card").hidden = true;
  $("result-card").hidden = true;
  state.skill = null;
}

function selectSkill(skill) {
  state.skill = skill;
  state.pending = null;
  const built = buildForm(skill, { primary: primaryParam(skill), file: state.file, files: state.files });
  state.form = built;
  $("form-heading").textContent = skillTitle(skill.name);
  $("form-description").textContent = firstLine(skill.description);
  const sens = h("select", { id: "run-sensitivity", "aria-describedby": "run-sensitivity-hint" });
  sens.append(h("option", { value: "", text: state.file && state.file.sensitivity ? `from the file's label (${state.file.sensitivity})` : "default" }));
  for (const l of LEVELS) sens.append(h("option", { value: l, text: l }));
  const form = $("skill-form");
  replace(
    form,
    built.fields,
    h(
      "div",
      { class: "field" },
      h("label", { for: "run-sensitivity", text: "Data sensitivity" }),
      sens,
      h("p", { class: "hint", id: "run-sensitivity-hint", text: "Only models cleared for this level are used; a file's label can only raise it." }),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "run-button", class: "primary", text: "Run" })),
  );
  $("write-confirm").hidden = true;
  $("skill-form-card").hidden = false;
  $("result-card").hidden = true;
}

function submitForm(event) {
  event.preventDefault();
  if (!state.skill || state.run) return;
  const form = state.form;
  form.clearErrors();
  const { args, errors } = form.collect();
  if (errors.length) {
    const bad = form.showErrors(errors);
    if (bad) bad.focus();
    return;
  }
  if (state.skill.effects === "write") askToWrite(args);
  else run(state.skill, args);
}

// -- the confirmation step of a write skill ---------------------------------------------------------

function askToWrite(args) {
  const skill = state.skill;
  state.pending = args;
  const roles = skill.path_parameters || {};
  const input = args[primaryParam(skill)] || (state.file && state.file.name) || "";
  const items = [];
  const outputs = Object.keys(roles).filter((k) => roles[k] === "output");
  if (args.in_place) {
    items.push(`Changes ${baseName(input)} itself (the copy in this workspace; your original stays as it is).`);
  } else if (outputs.some((k) => args[k])) {
    for (const k of outputs) if (args[k]) items.push(`Writes ${baseName(args[k])} into the folder of ${baseName(input)}.`);
  } else {
    items.push(`May write a new file next to ${baseName(input)}; ${baseName(input)} is not changed.`);
  }
  if (args.apply) items.push("Applies the change to the file.");
  items.push(`Runs ${skill.name} on ${baseName(input)}.`);
  replace($("write-confirm-list"), items.map((t) => h("li", { text: t })));
  $("write-confirm-heading").textContent = `${skillTitle(skill.name)} writes a file`;
  $("write-confirm").hidden = false;
  $("run-button").disabled = true;
  $("write-confirm-heading").focus();
}

function answerWrite(approved) {
  const args = state.pending;
  state.pending = null;
  $("write-confirm").hidden = true;
  $("run-button").disabled = false;
  if (approved && args) {
    run(state.skill, args);
  } else {
    $("run-button").focus();
    $("run-card").hidden = false;
    $("run-progress").hidden = true;
    $("run-cancel").hidden = true;
    setStatus($("run-status"), "Cancelled: nothing was written.");
  }
}

// -- running --------------------------------------------------------------------------------------

async function run(skill, args) {
  const ctrl = new AbortController();
  state.run = ctrl;
  const progress = $("run-progress");
  const status = $("run-status");
  const text = $("run-text");
  $("run-card").hidden = false;
  $("result-card").hidden = true;
  progress.hidden = false;
  progress.removeAttribute("value");
  progress.max = 1;
  text.hidden = true;
  text.textContent = "";
  $("run-cancel").hidden = false;
  $("run-button").disabled = true;
  setStatus(status, `Running ${skillTitle(skill.name)}…`);
  const level = $("run-sensitivity").value;
  const query = `?stream=1${level ? `&sensitivity=${encodeURIComponent(level)}` : ""}`;
  let finished = false;
  try {
    for await (const { event, data } of streamEvents(`/v1/skills/${encodeURIComponent(skill.name)}${query}`, args, ctrl.signal)) {
      if (event === "progress") {
        const total = Number(data.total) || 0;
        if (total > 0) {
          progress.max = total;
          progress.value = Math.min(Number(data.done) || 0, total);
        }
        setStatus(status, `${data.message || "Working"} (${data.done} of ${data.total})`);
      } else if (event === "text") {
        text.hidden = false;
        text.textContent += data.delta || "";
        text.scrollTop = text.scrollHeight;
      } else if (event === "result") {
        finished = true;
        progress.max = 1;
        progress.value = 1;
        text.hidden = true; // the live text was a preview; the result below is the answer
        showResult(skill, data);
      } else if (event === "error") {
        finished = true;
        showProblem(data);
      }
    }
    if (!finished) showProblem({ title: "The answer ended early", detail: "the connection closed before a result; run it again" });
  } catch (exc) {
    if (exc && exc.name === "AbortError") {
      setStatus(status, "Stopped. The service cancelled the call.");
      progress.hidden = true;
    } else {
      showProblem(asProblem(exc));
    }
  } finally {
    state.run = null;
    $("run-cancel").hidden = true;
    const btn = $("run-button");
    if (btn) btn.disabled = false;
  }
}

function showResult(skill, data) {
  const body = $("result-body");
  replace(
    body,
    renderValue(data.value, skill.name),
    renderFiles(data.files, (f) => useFile(f), (e, f) => download(e, f)),
    renderCalls(data, state.models),
    renderRaw(data),
  );
  $("result-heading").textContent = `${skillTitle(skill.name)}: result`;
  $("result-card").hidden = false;
  const wrote = Array.isArray(data.files) ? data.files.length : 0;
  setStatus($("run-status"), `Done in ${Number(data.duration_s || 0).toFixed(2)} s.${wrote ? ` ${wrote} file${wrote > 1 ? "s" : ""} written.` : ""} The result is below.`);
  $("result-heading").focus();
  refreshFiles();
}

function showProblem(problem) {
  setStatus($("run-status"), `Failed: ${problem.detail || problem.title || "unknown error"}`, true);
  $("run-progress").hidden = true;
  if (Array.isArray(problem.errors) && state.form) {
    const bad = state.form.showErrors(problem.errors);
    if (bad) {
      bad.focus();
      return;
    }
  }
  replace($("result-body"), renderProblem(problem));
  $("result-heading").textContent = "Result";
  $("result-card").hidden = false;
  $("result-heading").focus();
}

// -- credentials -----------------------------------------------------------------------------------

function initAuth() {
  onUnauthorized.add(() => {
    $("auth").hidden = false;
    $("auth-key").focus();
  });
  $("auth-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const key = $("auth-key").value.trim();
    if (!key) return;
    setApiKey(key);
    $("auth-key").value = "";
    $("auth").hidden = true;
    await start();
  });
}

async function start() {
  try {
    await loadCatalog();
    await refreshFiles();
  } catch (exc) {
    const p = asProblem(exc);
    $("models-summary").textContent = `Not connected: ${p.detail || p.title}`;
  }
}

function init() {
  initTabs();
  initFile();
  initAuth();
  $("skill-form").addEventListener("submit", submitForm);
  $("write-approve").addEventListener("click", () => answerWrite(true));
  $("write-cancel").addEventListener("click", () => answerWrite(false));
  $("write-confirm").addEventListener("keydown", (e) => {
    if (e.key === "Escape") answerWrite(false);
  });
  $("run-cancel").addEventListener("click", () => state.run && state.run.abort());
  initChat({ models: () => state.models, onFilesChanged: refreshFiles, onOpen: useFile, onDownload: download });
  start();
}

init();
