// Which skills apply to a file: the parameter that takes it, and the file types a skill names.

const PLUGIN_SUFFIXES = { document: [".docx"], spreadsheet: [".xlsx", ".xlsm"], code: [".py"] };
const SUFFIX = /(?:^|[\s(“"'`])(\.[a-z][a-z0-9]{0,4})\b/gi;

/** The parameter that takes the open file: `path` when there is one, else the first required input. */
export function primaryParam(skill) {
  const roles = skill.path_parameters || {};
  const inputs = Object.keys(roles).filter((k) => roles[k] === "input");
  if (inputs.includes("path")) return "path";
  const required = new Set((skill.parameters && skill.parameters.required) || []);
  return inputs.find((k) => required.has(k)) || null;
}

/** The file suffixes a skill works on, from its descriptions, else its plugin; empty means any. */
export function suffixesOf(skill) {
  const name = primaryParam(skill);
  const props = (skill.parameters && skill.parameters.properties) || {};
  const text = [name && props[name] ? props[name].description || "" : "", skill.description || ""].join(" ");
  const found = new Set();
  for (const m of text.matchAll(SUFFIX)) found.add(m[1].toLowerCase());
  if (/\bpython\b/i.test(text)) found.add(".py");
  if (found.size) return [...found];
  return PLUGIN_SUFFIXES[skill.plugin] || [];
}

/** Whether `skill` can run on the workspace file `file` (an upload description). */
export function applies(skill, file) {
  if (!file || !primaryParam(skill)) return false;
  const suffixes = suffixesOf(skill);
  if (!suffixes.length) return true;
  const lower = String(file.name).toLowerCase();
  return suffixes.some((s) => lower.endsWith(s));
}
