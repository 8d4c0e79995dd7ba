// The record viewer's speed in the real window (run by scripts/viewer-bench on the release
// build): from the doctor's click on a received record to the viewer painted (two animation
// frames after it rendered), for the largest shared example (WellnessRecord, 166 KB with an
// embedded PDF) against the smallest (Prescription, 4 KB) as the yardstick, in the same run.
// Usage: node viewer-bench.mjs APP SHOTS_DIR
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Session } from "./webdriver.mjs";

const [app, shots] = process.argv.slice(2);
const runs = Number(process.env.VIEWER_RUNS ?? 21);
const driver = process.env.WEBDRIVER_URL ?? "http://127.0.0.1:4444";
const s = await Session.start(driver, app, ["--data", await mkdtemp(path.join(tmpdir(), "desk-viewer-bench-"))]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  await s.click('#sign-in [data-name="Doctor"]');
  await s.type("#sign-in-pin", "2222");
  await s.click("#sign-in-submit");
  await s.until("signed in", async () => (await s.text("#signed-in")).startsWith("Doctor"));
  const sandbox = await s.until("the desk", async () => {
    const url = await s.invoke("sandbox_url");
    return typeof url === "string" ? url : null;
  });
  await fetch(`${sandbox}/admin/share`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ abha: "asha.kumari@sbx", hipId: "IN2710000001_1", counterId: "COUNTER-1" }),
  });
  await s.click("#nav-doctor");
  await s.click('#doctor-patients [data-patient="Asha Kumari"]');
  await s.click("#ask-records");
  const abdmId = await s.until("the request at ABDM", async () =>
    s.script("const li = document.querySelector('#consent-requests li[data-status=requested]'); return li && li.dataset.abdmId"));
  await fetch(`${sandbox}/admin/consent-requests/${abdmId}/grant`, { method: "POST" });
  await s.until("the records", async () => (await s.findAll(".open-record")).length === 7, 60000);
  const measure = async (title) => {
    const times = [];
    for (let i = 0; i < runs; i++) {
      await s.click(`.open-record[data-title="${title}"]`);
      times.push(Number(await s.until(`${title} painted`, async () => s.script("return document.body.dataset.viewerMs"))));
      if (process.env.VIEWER_DETAIL) console.log(title, await s.script("return JSON.stringify({ipc: document.body.dataset.viewerIpcMs, render: document.body.dataset.viewerRenderMs, painted: document.body.dataset.viewerMs})"));
      await s.click("#viewer-close");
      await s.until("the viewer closed", async () => s.script("return !document.body.dataset.viewerPainted"));
    }
    return times;
  };
  // The window's own frame latency, as a yardstick: two animation frames on the idle screen.
  const frames = [];
  for (let i = 0; i < runs; i++) {
    frames.push(await s.call("POST", "/execute/async", {
      script: "const done = arguments[0]; const t = performance.now(); requestAnimationFrame(() => requestAnimationFrame(() => done(Math.round(performance.now() - t))));",
      args: [],
    }));
  }
  console.log(`two frames on the idle screen ms: ${frames.join(", ")}`);
  // And when the whole screen must be painted again (its background changes).
  const repaint = [];
  for (let i = 0; i < runs; i++) {
    repaint.push(await s.call("POST", "/execute/async", {
      script: "const done = arguments[0]; const t = performance.now(); document.body.style.background = document.body.style.background ? '' : '#f4f6f9'; requestAnimationFrame(() => requestAnimationFrame(() => done(Math.round(performance.now() - t))));",
      args: [],
    }));
  }
  console.log(`two frames after a full repaint ms: ${repaint.join(", ")}`);
  const large = await measure("Wellness Record");
  const small = await measure("Prescription");
  await s.screenshot(path.join(shots, "viewer-bench.png"));
  console.log(`largest (Wellness Record, 166 KB) ms: ${large.join(", ")}`);
  console.log(`smallest (Prescription, 4 KB) ms: ${small.join(", ")}`);
  console.log(`median: largest ${median(large)} ms (target < 300 ms), smallest ${median(small)} ms`);
} finally {
  await s.end();
}
