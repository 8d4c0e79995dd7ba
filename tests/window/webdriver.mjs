// A small W3C WebDriver client over Node's fetch: tauri-driver in front of WebKitWebDriver drives
// the real app. No npm packages.
import { writeFile } from "node:fs/promises";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export class Session {
  static async start(driver, application, args = []) {
    const res = await fetch(`${driver}/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application, args } } },
      }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`no WebDriver session: ${JSON.stringify(body)}`);
    return new Session(driver, body.value.sessionId);
  }

  constructor(driver, id) {
    this.base = `${driver}/session/${id}`;
  }

  async call(method, path, body) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value)}`);
    return json.value;
  }

  // Screens load asynchronously: an element is looked for until it appears (10 s at most).
  async find(css) {
    const end = Date.now() + 10000;
    for (;;) {
      try {
        const found = await this.call("POST", "/element", { using: "css selector", value: css });
        return found[ELEMENT];
      } catch (e) {
        if (Date.now() > end) throw new Error(`${css} is not on the screen`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async findAll(css) {
    const found = await this.call("POST", "/elements", { using: "css selector", value: css });
    return found.map((f) => f[ELEMENT]);
  }

  async text(css) {
    return this.call("GET", `/element/${await this.find(css)}/text`);
  }

  async click(css) {
    await this.call("POST", `/element/${await this.find(css)}/click`, {});
  }

  // Replaces a field's text the way a person does (erase it, type anew), and checks what
  // the field then holds: WebDriver's "clear" alone does not reach React, whose next render can
  // put the old value back under the typed text.
  async type(css, text) {
    const el = await this.find(css);
    for (let attempt = 0; ; attempt++) {
      const old = await this.call("GET", `/element/${el}/property/value`);
      const endThenBackspaces = "\uE010" + "\uE003".repeat(old.length);
      await this.call("POST", `/element/${el}/value`, { text: endThenBackspaces + text });
      const value = await this.call("GET", `/element/${el}/property/value`);
      if (value === text) return;
      if (attempt === 2) throw new Error(`${css} holds "${value}" after typing "${text}"`);
    }
  }

  async script(source, args = []) {
    return this.call("POST", "/execute/sync", { script: source, args });
  }

  // Calls a Rust command the way the UI does.
  async invoke(command, args = {}) {
    return this.call("POST", "/execute/async", {
      script: "const [c, a, done] = arguments; window.__TAURI_INTERNALS__.invoke(c, a).then(done, (e) => done({ error: e }));",
      args: [command, args],
    });
  }

  async until(what, check, timeoutMs = 20000) {
    const end = Date.now() + timeoutMs;
    let last;
    while (Date.now() < end) {
      try {
        last = await check();
        if (last) return last;
      } catch (e) {
        last = e.message;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what} (last: ${last})`);
  }

  // Waits a frame or two first: a screenshot right after a change can show the old frame.
  // WebKitWebDriver takes it at the page's next paint, and without WebKit's compositing (the
  // app's default) a still page never paints again: while the screenshot is taken, the page
  // repaints its body in the colour it already has.
  async screenshot(file) {
    await new Promise((r) => setTimeout(r, 500));
    await this.script(`clearInterval(window.deskShotTicker);
      const b = document.body, colour = getComputedStyle(document.documentElement).backgroundColor;
      let n = 0;
      window.deskShotTicker = setInterval(() => {
        b.style.backgroundColor = b.style.backgroundColor ? "" : colour;
        if (++n > 200) clearInterval(window.deskShotTicker);
      }, 50);`);
    const png = await this.call("GET", "/screenshot");
    await this.script("clearInterval(window.deskShotTicker); document.body.style.backgroundColor = '';");
    await writeFile(file, Buffer.from(png, "base64"));
  }

  async end() {
    await fetch(this.base, { method: "DELETE" }).catch(() => {});
  }
}
