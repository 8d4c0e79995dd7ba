// The reception desk in the real window: each scenario opens the app on a fresh data folder
// (embedded sandbox + relay), does what a receptionist does, checks what they would see, and
// saves screenshots. Usage: node reception.mjs APP SHOTS_DIR
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import { Session } from "./webdriver.mjs";

const [app, shots] = process.argv.slice(2);
const driver = process.env.WEBDRIVER_URL ?? "http://127.0.0.1:4444";
const SECRET = "s3cret-for-the-window-test-7f2a";
const dataDirs = [];
// The bundles the simulated hospital serves (tests/window/run points the app at them), with the
// number of Composition section entries each holds, nested ones too.
const examples = path.join(process.env.ABDM_SHARED ?? "../shared", "fhir-examples");
const bundles = [];
for (const file of (await readdir(examples)).filter((f) => f.endsWith(".json"))) {
  const bundle = JSON.parse(await readFile(path.join(examples, file), "utf8"));
  const composition = bundle.entry.map((e) => e.resource).find((r) => r.resourceType === "Composition");
  const count = (sections = []) => sections.reduce((n, s) => n + (s.entry?.length ?? 0) + count(s.section), 0);
  bundles.push({ file: file.replace(/\.json$/, ""), title: composition.title, entries: count(composition.section) });
}
let secretSaved = false;

async function withApp(name, scenario) {
  const data = await mkdtemp(path.join(tmpdir(), `desk-${name}-`));
  dataDirs.push(data);
  const session = await Session.start(driver, app, ["--data", data]);
  const shot = (step) => session.screenshot(path.join(shots, `${name}-${step}.png`));
  try {
    await signIn(session, { roles: "Reception", consultation: "Doctor", records: "Doctor" }[name] ?? "Admin");
    // The first call waits for the desk to open (sandbox, relay, store).
    await session.until("the desk to open", async () => {
      const r = await session.invoke("reception");
      return r && !r.error;
    });
    await scenario(session, shot);
    console.log(`ok   ${name}`);
    return true;
  } catch (e) {
    await shot("failed").catch(() => {});
    console.log(`FAIL ${name}: ${e.message}`);
    return false;
  } finally {
    await session.end();
  }
}

// The training desk's demo accounts (README): Reception 1111, Doctor 2222, Admin 3333.
const PINS = { Reception: "1111", Doctor: "2222", Admin: "3333" };

async function signIn(s, name) {
  await s.click(`#sign-in [data-name="${name}"]`);
  await s.type("#sign-in-pin", PINS[name]);
  await s.click("#sign-in-submit");
  await s.until(`${name} signed in`, async () => (await s.text("#signed-in")).startsWith(name));
}

async function walkIn(s, fields) {
  await s.click("#nav-reception");
  for (const [id, value] of Object.entries(fields)) {
    if (id === "gender") await s.click(`#walkin-gender option[value="${value}"]`);
    else await s.type(`#walkin-${id}`, value);
  }
  await s.click("#walkin-submit");
}

// The simulated patient's phone: the newest OTP after `seen` messages.
async function nextOtp(sandbox, seen) {
  for (let i = 0; i < 100; i++) {
    const messages = await (await fetch(`${sandbox}/phone`)).json();
    const fresh = messages.slice(seen).filter((m) => m.otp);
    if (fresh.length) return { otp: fresh[fresh.length - 1].otp, seen: messages.length };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("no OTP reached the patient's phone");
}

async function phoneCount(sandbox) {
  return (await (await fetch(`${sandbox}/phone`)).json()).length;
}

const scenarios = {
  async hindi(s, shot) {
    await s.until("the English screen", async () => (await s.text("#queue-title")) === "Today's queue");
    await s.click("#lang-toggle");
    await s.until("the reception screen in Hindi", async () => (await s.text("#queue-title")) === "आज की कतार");
    const nav = await s.text("#nav-reception");
    if (nav !== "रिसेप्शन") throw new Error(`the menu reads ${nav}`);
    const submit = await s.text("#walkin-submit");
    if (submit !== "दर्ज करें और टोकन दें") throw new Error(`the button reads ${submit}`);
    // What the desk sends to ABDM is worded in Hindi too.
    await walkIn(s, { name: "Ravi Shankar", gender: "M", yob: "1978", abha: "91-5555-0000-1234" });
    await s.until("the outbox in Hindi", async () => (await s.text("#outbox")).includes("Ravi Shankar का ABHA"));
    // Every item, the desk's background work included, reads in Hindi: none is left in English.
    const english = await s.script("return [...document.querySelectorAll('#outbox li .label')].map(l => l.textContent).filter(t => !/[\\u0900-\\u097F]/.test(t))");
    if (english.length > 0) throw new Error(`outbox items in English: ${JSON.stringify(english)}`);
    await shot("reception-hi");
  },

  async offlineWalkIn(s, shot) {
    await s.until("online", async () => (await s.script("return document.querySelector('#connection').dataset.state")) === "online");
    await s.click("#nav-settings");
    await s.click("#line-toggle");
    await s.until("the line to be out", async () => (await s.text("#line-state")) === "Pulled out");
    await walkIn(s, { name: "Ravi Shankar", gender: "M", yob: "1978", abha: "91-5555-0000-1234" });
    await s.until("the walk-in in the queue", async () => (await s.text("#queue tbody")).includes("Ravi Shankar"));
    await s.until("the offline indicator", async () => (await s.script("return document.querySelector('#connection').dataset.state")) === "offline");
    const waiting = await s.script("return [...document.querySelectorAll('#outbox li')].filter(li => li.dataset.state !== 'done').length");
    if (waiting === 0) throw new Error("nothing waits in the outbox while offline");
    await shot("offline-saved");
    await s.click("#nav-settings");
    await s.click("#line-toggle");
    await s.click("#nav-reception");
    await s.until("the outbox to drain", async () =>
      s.script("const items = [...document.querySelectorAll('#outbox li')]; return items.length > 0 && items.every(li => li.dataset.state === 'done')"), 30000);
    await s.until("online again", async () => (await s.script("return document.querySelector('#connection').dataset.state")) === "online");
    const row = await s.text("#queue tbody tr");
    if (!row.includes("91-5555-0000-1234")) throw new Error(`the queue does not show the ABHA: ${row}`);
    await shot("synced");
  },

  async scanAndShare(s, shot) {
    const sandbox = await s.invoke("sandbox_url");
    const settings = await s.invoke("settings");
    const share = async () => {
      const res = await fetch(`${sandbox}/admin/share`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ abha: "asha.kumari@sbx", hipId: settings.settings.hipId, counterId: settings.settings.counterId }),
      });
      if (!res.ok) throw new Error(`the sandbox refused the share: ${await res.text()}`);
      const { requestId } = await res.json();
      // Done when the desk's answer (the token) has reached the patient's phone.
      return s.until("the desk's answer to the share", async () => {
        const share = await (await fetch(`${sandbox}/admin/shares/${requestId}`)).json();
        return share.tokenNumber ?? null;
      });
    };
    await share();
    await s.until("the arrival in the queue", async () =>
      s.script("const row = [...document.querySelectorAll('#queue tbody tr')].find(r => r.textContent.includes('Asha Kumari')); return row && row.classList.contains('arrived') ? row.dataset.token : null"));
    const notice = await s.text("#notice");
    if (!notice.includes("Asha Kumari")) throw new Error(`no arrival notice: ${notice}`);
    const row = await s.text("#queue tbody tr");
    if (!row.includes("asha.kumari@sbx")) throw new Error(`the arrival shows no ABHA address: ${row}`);
    await shot("arrival");
    const again = await share();
    await new Promise((r) => setTimeout(r, 1500)); // two refreshes of the screen
    const rows = await s.script("return [...document.querySelectorAll('#queue tbody tr')].filter(r => r.textContent.includes('Asha Kumari')).map(r => r.dataset.token)");
    if (rows.length !== 1 || String(again) !== rows[0]) throw new Error(`scanning again gave token ${again}, the queue shows ${rows}`);
  },

  async printSlip(s, shot) {
    await walkIn(s, { name: "Meena Das", yob: "1985", mobile: "9876543210" });
    await s.until("the walk-in in the queue", async () => (await s.text("#queue tbody")).includes("Meena Das"));
    await s.click("#queue tbody tr .print-slip");
    const notice = await s.until("the saved slip", async () => {
      const text = await s.text("#notice");
      return text.includes(".pdf") ? text : null;
    });
    const pdf = notice.slice(notice.indexOf("/"));
    const text = execFileSync("pdftotext", [pdf, "-"]).toString();
    for (const expected of ["Meena Das", "Sandbox Clinic", "COUNTER-1"]) {
      if (!text.includes(expected)) throw new Error(`${expected} is not on the slip: ${text}`);
    }
    await shot("slip-printed");
  },

  async createAbha(s, shot) {
    const sandbox = await s.invoke("sandbox_url");
    await walkIn(s, { name: "Kiran Rao", gender: "F", yob: "1992" });
    await s.until("the walk-in in the queue", async () => (await s.text("#queue tbody")).includes("Kiran Rao"));
    await s.click("#queue tbody tr .link-abha");
    await s.type("#abha-aadhaar", "7345 6789 0125");
    await s.click("#abha-consent");
    let seen = await phoneCount(sandbox);
    await s.click("#abha-send");
    let sms = await nextOtp(sandbox, seen);
    await s.until("the OTP step", async () => (await s.text("#abha-resend")).startsWith("Send again in"));
    // A mistyped OTP is explained as what to do, not as ABDM's code.
    const wrong = sms.otp === "000000" ? "111111" : "000000";
    await s.type("#abha-otp", wrong);
    await s.type("#abha-mobile", "9000012345");
    await s.click("#abha-verify");
    const problem = await s.until("the wrong-OTP advice", async () => s.text("#abha-problem"));
    if (!problem.startsWith("The OTP is wrong: ask the patient")) throw new Error(`a wrong OTP reads: ${problem}`);
    await shot("wrong-otp");
    await s.type("#abha-otp", sms.otp);
    await shot("aadhaar-otp");
    seen = sms.seen;
    await s.click("#abha-verify");
    // A mobile that is not the Aadhaar one gets its own OTP (the mobile branch).
    await s.find("#abha-verify-mobile");
    sms = await nextOtp(sandbox, seen);
    await s.type("#abha-otp", sms.otp);
    await s.click("#abha-verify-mobile");
    await s.find("#abha-suggestions input");
    await shot("address-choice");
    await s.click("#abha-suggestions li:nth-child(2) input");
    const address = await s.script("return document.querySelector('#abha-address').value");
    await s.click("#abha-finish");
    const result = await s.until("the ABHA", async () => s.text("#abha-result"));
    if (!result.includes(address)) throw new Error(`the chosen address ${address} is not the ABHA's: ${result}`);
    await shot("created");
    await s.click("#abha-close");
    await s.until("the ABHA in the queue", async () => (await s.text("#queue tbody")).includes(address));
  },

  async scanCard(s, shot) {
    const pictures = await mkdtemp(path.join(tmpdir(), "camera-"));
    const card = JSON.stringify({ hidn: "91-5555-0000-1234", hid: "ravi.shankar@sbx", name: "Ravi Shankar", gender: "M", dob: "3/11/1978" });
    // The card's QR is made by an independent encoder (segno), as a photo of a printed card.
    execFileSync(process.env.ABDM_QR_PYTHON ?? "python3", ["-c",
      "import segno,sys; segno.make(sys.argv[1], error='m').save(sys.argv[2], scale=6, border=6)", card, path.join(pictures, "card.png")]);
    await s.click("#nav-settings");
    await s.type("#settings-camera", pictures);
    await s.click("#settings-save");
    await s.find("#notice");
    await s.click("#nav-reception");
    await s.click("#scan-card");
    await s.until("the card's profile", async () => (await s.text("#scan-profile")).includes("Ravi Shankar"));
    await s.find("#scan-preview");
    await shot("card-read");
    await s.click("#scan-confirm");
    await s.until("Ravi in the queue with his ABHA", async () => (await s.text("#queue tbody")).includes("ravi.shankar@sbx"));
    await s.until("the ABHA verified", async () =>
      s.script("const items = [...document.querySelectorAll('#outbox li')]; return items.length > 0 && items.every(li => li.dataset.state === 'done')"), 30000);
    await shot("linked");
  },

  async testConnection(s, shot) {
    await s.click("#nav-settings");
    await s.click("#test-connection");
    const outcome = async () => {
      await s.until("the test's outcome", async () => (await s.text("#test-result")).length > 0, 60000);
      return s.script("return [...document.querySelectorAll('#connection-checks li')].map(li => li.dataset.step + ':' + li.dataset.ok).join(' ')");
    };
    const passed = await outcome();
    if (passed !== "credentials:true facility:true bridge:true relay:true callback:true") throw new Error(`the checks read ${passed}`);
    await shot("passed");
    // With the line pulled the first step fails, in words, and nothing after it is claimed.
    await s.click("#line-toggle");
    await s.until("the line to be out", async () => (await s.text("#line-state")) === "Pulled out");
    await s.click("#test-connection");
    const failed = await outcome();
    if (failed !== "credentials:false") throw new Error(`with the line out the checks read ${failed}`);
    const reason = await s.text("#connection-checks li");
    if (!/reach/i.test(reason)) throw new Error(`the failed step gives no reason: ${reason}`);
    await shot("line-out");
    await s.click("#line-toggle");
  },

  // A clinic moved to ABDM v3 (what ABDM serves today) in its settings: the whole connection test
  // passes on v3, and an ABHA is linked by the patient's mobile number, choosing among its ABHAs.
  async abdmV3(s, shot) {
    await s.click("#nav-settings");
    await s.find("#settings-abdm-version");
    await s.script(
      "const el = document.querySelector('#settings-abdm-version');" +
        "Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set.call(el, 'v3');" +
        "el.dispatchEvent(new Event('change', { bubbles: true }));",
    );
    await s.click("#settings-save");
    await s.find("#notice");
    await s.until("the desk on v3", async () => {
      const r = await s.invoke("reception");
      return r && !r.error;
    }, 60000);
    await s.click("#test-connection");
    await s.until("the test's outcome", async () => (await s.text("#test-result")).length > 0, 60000);
    const checks = await s.script("return [...document.querySelectorAll('#connection-checks li')].map(li => li.dataset.step + ':' + li.dataset.ok).join(' ')");
    if (checks !== "credentials:true facility:true bridge:true relay:true callback:true") throw new Error(`on v3 the checks read ${checks}`);
    await shot("connection");
    const sandbox = await s.invoke("sandbox_url");
    await s.click("#nav-reception");
    await walkIn(s, { name: "Fatima Begum", gender: "F", yob: "1988" });
    await s.until("the walk-in in the queue", async () => (await s.text("#queue tbody")).includes("Fatima Begum"));
    await s.click("#queue tbody tr .link-abha");
    await s.click("#abha-mode-link");
    await s.type("#abha-link-id", "9900112233");
    const seen = await phoneCount(sandbox);
    await s.click("#abha-link-send");
    const sms = await nextOtp(sandbox, seen);
    await s.type("#abha-otp", sms.otp);
    await s.click("#abha-link-finish");
    await s.until("the mobile's ABHAs", async () => (await s.text("#abha-choices")).includes("fatima.begum@sbx"));
    await shot("choose");
    await s.script("[...document.querySelectorAll('#abha-choices label')].find(l => l.textContent.includes('fatima.begum@sbx')).querySelector('input').click()");
    await s.click("#abha-choose-finish");
    const result = await s.until("the ABHA", async () => s.text("#abha-result"));
    if (!result.includes("fatima.begum@sbx")) throw new Error(`linked ${result}`);
    await s.click("#abha-close");
    await s.until("the ABHA in the queue", async () => (await s.text("#queue tbody")).includes("fatima.begum@sbx"));
  },

  async consultation(s, shot) {
    await walkIn(s, { name: "Ravi Shankar", gender: "M", yob: "1978", abha: "91-5555-0000-1234" });
    await s.until("the walk-in in the queue", async () => (await s.text("#queue tbody")).includes("Ravi Shankar"));
    await s.click("#nav-doctor");
    await s.click('#doctor-patients [data-patient="Ravi Shankar"]');
    await s.until("the chart", async () => (await s.text("#chart-name")) === "Ravi Shankar");
    await s.type("#c-complaints", "Cough for a week");
    for (const [id, value] of [["systolic_mmhg", "128"], ["diastolic_mmhg", "82"], ["pulse_per_min", "90"], ["spo2_percent", "97"]]) {
      await s.type(`#v-${id}`, value);
    }
    await s.type("#c-diagnoses", "Acute bronchitis");
    for (const [field, value] of [["drug", "Azithromycin 500 mg tablet"], ["dose", "1 tablet"], ["frequency", "once a day"], ["duration", "3 days"]]) {
      await s.type(`[data-line="0"] .rx-${field}`, value);
    }
    await s.click("#consultation-save");
    await s.until("the visit saved", async () => (await s.text("#doctor-notice")).startsWith("Saved"));
    // Linked to the ABHA as a care context when ABDM answers; the visit shows it.
    await s.until("the visit linked", async () =>
      (await s.script("return document.querySelector('#visits li')?.dataset.link")) === "linked", 30000);
    await shot("saved-and-linked");
    await s.click("#visits li .print-rx");
    const notice = await s.until("the saved prescription", async () => {
      const text = await s.text("#doctor-notice");
      return text.includes(".pdf") ? text : null;
    });
    const text = execFileSync("pdftotext", [notice.slice(notice.indexOf("/")), "-"]).toString().split(/\s+/).join(" ");
    for (const expected of ["Ravi Shankar", "Doctor", "ABHA 91-5555-0000-1234", "BP 128/82 mmHg", "Acute bronchitis", "1. Azithromycin 500 mg tablet", "1 tablet · once a day · 3 days"]) {
      if (!text.includes(expected)) throw new Error(`${expected} is not on the prescription: ${text}`);
    }
    await shot("prescription-printed");
  },

  async records(s, shot) {
    const sandbox = await s.invoke("sandbox_url");
    const settings = { hipId: "IN2710000001_1", counterId: "COUNTER-1" };
    // Asha arrives by scanning the counter QR: her ABHA address is known here.
    const res = await fetch(`${sandbox}/admin/share`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ abha: "asha.kumari@sbx", ...settings }),
    });
    if (!res.ok) throw new Error(`the sandbox refused the share: ${await res.text()}`);
    await s.until("Asha in the queue", async () => (await s.text("#queue tbody")).includes("Asha Kumari"));
    await s.click("#nav-doctor");
    await s.click('#doctor-patients [data-patient="Asha Kumari"]');
    await s.click("#ask-records");
    // The patient approves on their phone (the sandbox's consent manager, by hand).
    const abdmId = await s.until("the request at ABDM", async () =>
      s.script("const li = document.querySelector('#consent-requests li[data-status=requested]'); return li && li.dataset.abdmId"));
    await shot("requested");
    const grant = await fetch(`${sandbox}/admin/consent-requests/${abdmId}/grant`, { method: "POST" });
    if (!grant.ok) throw new Error(`the sandbox did not take the approval: ${await grant.text()}`);
    await s.until("every bundle received", async () => (await s.findAll(".open-record")).length === bundles.length, 60000);
    // Each bundle in the viewer: every Composition section entry is a row or a listed missing reference.
    for (const title of await s.script("return [...document.querySelectorAll('.open-record')].map(b => b.dataset.title)")) {
      const bundle = bundles.find((b) => b.title === title);
      if (!bundle) throw new Error(`a record titled ${title} was not sent`);
      await s.click(`.open-record[data-title="${title}"]`);
      await s.until(`${title} painted`, async () => s.script("return document.body.dataset.viewerPainted"));
      const shown = await s.script("const v = document.querySelector('#viewer'); return v.querySelectorAll('tr[data-reference]').length + v.querySelectorAll('li[data-missing]').length");
      if (shown !== bundle.entries) throw new Error(`${title}: ${bundle.entries} section entries, ${shown} on screen`);
      // A PDF in the record is drawn in place, page by page.
      const pdfs = await s.findAll('.attachment[data-type="application/pdf"] .show-file');
      if (pdfs.length > 0) {
        await s.call("POST", `/element/${pdfs[0]}/click`, {});
        await s.until(`${title}'s PDF drawn`, async () =>
          s.script("const c = document.querySelector('.pdf-page[data-page=\"1\"]'); return c && c.height > 0 && Number(document.querySelector('.pdf').dataset.pages) > 0"), 30000);
        await s.script("document.querySelector('.pdf-page').scrollIntoView()");
      }
      await shot(`viewer-${bundle.file}`);
      if (bundle.file.endsWith("OPConsultation")) {
        await s.click("#viewer-print");
        const notice = await s.until("the printed record", async () => {
          const text = await s.text("#viewer-notice");
          return text.includes(".pdf") ? text : null;
        });
        const printed = execFileSync("pdftotext", [notice.slice(notice.indexOf("/")), "-"]).toString();
        if (!printed.includes("OP Consultation Document") || !printed.includes("Dry cough")) throw new Error(`the printed record lacks its content: ${printed.slice(0, 200)}`);
      }
      await s.click("#viewer-close");
    }
    // The patient revokes: the records go, the screen says why and when.
    const consent = await s.script("return document.querySelector('.consent').dataset.consent");
    const revoke = await fetch(`${sandbox}/admin/consents/${consent}/revoke`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    if (!revoke.ok) throw new Error(`the sandbox did not revoke: ${await revoke.text()}`);
    await s.until("the records archived", async () => (await s.text(".consent .archived")).includes("revoked"), 30000);
    if ((await s.findAll(".open-record")).length !== 0) throw new Error("archived records can still be opened");
    await shot("archived");
    // The desk's work for all this (consent, the way in for records, receiving, telling ABDM)
    // reads in Hindi in the outbox too.
    await s.click("#nav-reception");
    await s.click("#lang-toggle");
    await s.until("the outbox in Hindi", async () => (await s.text("#outbox")).includes("सहमति"));
    const english = await s.script("return [...document.querySelectorAll('#outbox li .label')].map(l => l.textContent).filter(t => !/[\\u0900-\\u097F]/.test(t))");
    if (english.length > 0) throw new Error(`outbox items in English: ${JSON.stringify(english)}`);
    await shot("outbox-hi");
    await s.click("#lang-toggle");
  },

  async roles(s, shot) {
    // A receptionist has no clinic settings, on screen or by calling the desk directly.
    const menu = await s.script("return document.querySelector('#nav-settings') === null");
    if (!menu) throw new Error("the receptionist sees the settings menu");
    const settings = await s.invoke("settings");
    if (settings?.error?.code !== "forbidden") throw new Error(`the settings command answered ${JSON.stringify(settings)}`);
    await shot("reception-role");
    // Nor any received record, whatever the id.
    const anyone = "00000000-0000-4000-8000-000000000000";
    for (const [command, args] of [["patient_records", { patientId: anyone }], ["open_record", { recordId: anyone }], ["export_record", { recordId: anyone }], ["chart", { patientId: anyone }]]) {
      const answer = await s.invoke(command, args);
      if (answer?.error?.code !== "forbidden") throw new Error(`${command} answered the receptionist ${JSON.stringify(answer).slice(0, 80)}`);
    }
    if (await s.script("return document.querySelector('#nav-doctor') !== null")) throw new Error("the receptionist sees the doctor's menu");
    // Locking the screen hides the desk until someone signs in; a wrong PIN is refused in words.
    await s.click("#lock");
    await s.find("#sign-in");
    const hidden = await s.script("return document.querySelector('#queue') === null");
    if (!hidden) throw new Error("the queue is on screen while locked");
    const call = await s.invoke("reception");
    if (call?.error?.code !== "signed-out") throw new Error(`a locked desk answered ${JSON.stringify(call).slice(0, 80)}`);
    await s.click('#sign-in [data-name="Doctor"]');
    await s.type("#sign-in-pin", "9999");
    await s.click("#sign-in-submit");
    await s.until("the wrong PIN refused", async () => (await s.text("#sign-in-error")) === "Wrong name or PIN.");
    await shot("wrong-pin");
  },

  async secretStaysSecret(s, shot) {
    await s.click("#nav-settings");
    await s.type("#settings-secret", SECRET);
    await s.click("#settings-save");
    await s.until("the saved notice", async () => (await s.text("#secret-state")).startsWith("A secret is saved"));
    const field = await s.script("return document.querySelector('#settings-secret').value");
    if (field !== "") throw new Error("the secret stays in the field after saving");
    const page = await s.script("return document.body.innerText + [...document.querySelectorAll('input')].map(i => i.value).join(' ')");
    if (page.includes(SECRET)) throw new Error("the secret is on the screen");
    secretSaved = true;
    const view = JSON.stringify(await s.invoke("settings"));
    if (view.includes(SECRET)) throw new Error("the settings command returns the secret");
    await shot("secret-saved");
  },
};

async function filesContaining(dir, needle) {
  const hits = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    if ((await readFile(file)).includes(needle)) hits.push(file);
  }
  return hits;
}

let failed = 0;
const only = process.env.WINDOW_TESTS?.split(",");
for (const [name, scenario] of Object.entries(scenarios)) {
  if (only && !only.includes(name)) continue;
  if (!(await withApp(name, scenario))) failed++;
}
// The app's data folder and its log never hold the client secret.
if (secretSaved) {
  const hits = [];
  const forms = [SECRET, Buffer.from(SECRET).toString("base64"), Buffer.from(SECRET).toString("hex")];
  for (const dir of dataDirs) for (const form of forms) hits.push(...(await filesContaining(dir, form)));
  const log = process.env.APP_LOG ? await readFile(process.env.APP_LOG) : Buffer.alloc(0);
  if (forms.some((form) => log.includes(form))) hits.push(process.env.APP_LOG);
  if (hits.length) {
    console.log(`FAIL the client secret is written in ${hits.join(", ")}`);
    failed++;
  } else console.log("ok   the client secret is in no file of the data folder and not in the log");
}
console.log(failed ? `${failed} failed` : "all window tests passed");
process.exit(failed ? 1 : 0);
