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
// The outbox's words come from the desk by key (desk-core's labels table).
const labels = readFileSync("../crates/core/src/labels.rs", "utf8");
for (const [, key] of labels.matchAll(/^\s*\("([a-z-]+)",\s*"/gm)) {
  if (!(`outbox.label.${key}` in en)) problems.push(`en.json lacks "outbox.label.${key}" (crates/core/src/labels.rs)`);
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
