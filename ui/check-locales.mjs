// Every string on screen comes from both translation files: the same keys in each, and every
// key the code names literally is in them. Run before each build.
import { readFileSync, readdirSync } from "node:fs";

const en = JSON.parse(readFileSync("src/locales/en.json", "utf8"));
const hi = JSON.parse(readFileSync("src/locales/hi.json", "utf8"));
const problems = [];
for (const key of Object.keys(en)) if (!(key in hi)) problems.push(`hi.json lacks "${key}"`);
for (const key of Object.keys(hi)) if (!(key in en)) problems.push(`en.json lacks "${key}"`);
for (const file of readdirSync("src").filter((f) => f.endsWith(".tsx") || f.endsWith(".ts"))) {
  const source = readFileSync(`src/${file}`, "utf8");
  for (const [, key] of source.matchAll(/\bt\("([^"]+)"/g)) {
    if (!(key in en)) problems.push(`${file} uses "${key}", which en.json lacks`);
  }
}
// The outbox's words come from the desk by key (desk-core's labels table, entries over one line
// or several as rustfmt wraps them): each key in both files, with the same {0}, {1}… as its English.
const source = readFileSync("../crates/core/src/labels.rs", "utf8");
const begins = source.indexOf("pub const LABELS: &[(&str, &str)] = &[");
const table = begins < 0 ? "" : source.slice(begins, source.indexOf("\n];", begins));
const entries = [...table.matchAll(/\(\s*"([a-z-]+)",\s*"((?:[^"\\]|\\.)*)",?\s*\)/g)];
if (entries.length === 0) problems.push("crates/core/src/labels.rs: no LABELS table read (was it renamed?)");
if (entries.length !== (table.match(/\(\s*"/g) ?? []).length) problems.push("crates/core/src/labels.rs: an entry of LABELS was not read");
const placeholders = (words) => [...new Set(words.match(/\{\d+\}/g) ?? [])].sort().join(" ");
for (const [, key, english] of entries) {
  for (const [name, words] of [["en.json", en], ["hi.json", hi]]) {
    const said = words[`outbox.label.${key}`];
    if (said === undefined) problems.push(`${name} lacks "outbox.label.${key}" (crates/core/src/labels.rs)`);
    else if (placeholders(said) !== placeholders(english)) problems.push(`${name}: "outbox.label.${key}" has ${placeholders(said) || "no placeholders"}, its English ${placeholders(english) || "none"}`);
  }
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
