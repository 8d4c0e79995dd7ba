import { useEffect, useState } from "react";
import { listen } from "@tauri-apps/api/event";
import { api, errorWords, type AuditRow, type Check, type CheckStep, type Settings, type SettingsView, type StaffState } from "./api";
import { StaffList } from "./SignIn";
import { useT } from "./i18n";

export function SettingsScreen({ staff, staffChanged }: { staff: StaffState; staffChanged: (s: StaffState) => void }) {
  const t = useT();
  const [view, setView] = useState<SettingsView | null>(null);
  const [draft, setDraft] = useState<Settings | null>(null);
  const [secret, setSecret] = useState("");
  const [relayToken, setRelayToken] = useState("");
  const [relayKey, setRelayKey] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [audit, setAudit] = useState<AuditRow[]>([]);

  const load = async () => {
    const v = await api.settings();
    setView(v);
    setDraft(v.settings);
    // The audit log needs a running desk; the settings do not (they may be why it did not start).
    setAudit(await api.auditLog().catch(() => [])); // newest first
  };
  useEffect(() => {
    load().catch((e) => setError(errorWords(e, t)));
  }, []);

  if (!view || !draft) return error ? <div className="banner error">{error}</div> : null;

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    setNotice(null);
    try {
      let v = await api.saveSettings(draft);
      if (secret.trim()) {
        v = await api.saveClientSecret(secret);
        setSecret(""); // The secret is not kept on screen, nor shown again.
      }
      if (relayToken.trim()) {
        v = await api.saveRelayToken(relayToken);
        setRelayToken("");
      }
      setView(v);
      setNotice(t("settings.saved"));
    } catch (err) {
      setError(errorWords(err, t));
    }
  };

  const set = (key: keyof Settings, value: string) => setDraft({ ...draft, [key]: value });
  const line = async (online: boolean) => {
    try {
      setView(await api.setOnline(online));
    } catch (err) {
      setError(errorWords(err, t));
    }
  };

  return (
    <div className="settings">
      <form id="settings" onSubmit={save} noValidate>
        <h2>{t("settings.title")}</h2>
        <label>
          {t("settings.clinicName")}
          <input id="settings-clinic" value={draft.clinicName} onChange={(e) => set("clinicName", e.target.value)} />
        </label>
        <label>
          {t("settings.environment")}
          <select id="settings-environment" value={draft.environment} onChange={(e) => set("environment", e.target.value)}>
            {(["embedded-sandbox", "abdm-sandbox", "production"] as const).map((env) => (
              <option key={env} value={env}>
                {t(`settings.env.${env}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("settings.abdmVersion")}
          <select
            id="settings-abdm-version"
            value={draft.abdmVersion ?? ""}
            onChange={(e) => setDraft({ ...draft, abdmVersion: e.target.value === "" ? null : (e.target.value as "v0.5" | "v3") })}
          >
            <option value="">{t("settings.abdmVersion.auto")}</option>
            <option value="v3">{t("settings.abdmVersion.v3")}</option>
            <option value="v0.5">{t("settings.abdmVersion.v05")}</option>
          </select>
        </label>
        <div className="row">
          <label>
            {t("settings.hipId")}
            <input id="settings-hip" value={draft.hipId} onChange={(e) => set("hipId", e.target.value)} />
          </label>
          <label>
            {t("settings.counterId")}
            <input id="settings-counter" value={draft.counterId} onChange={(e) => set("counterId", e.target.value)} />
          </label>
        </div>
        <div className="row">
          <label>
            {t("settings.clientId")}
            <input id="settings-client-id" value={draft.clientId} onChange={(e) => set("clientId", e.target.value)} />
          </label>
          <label>
            {t("settings.clientSecret")}
            <input id="settings-secret" type="password" autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} />
            <span className="muted small" id="secret-state">
              {view.hasClientSecret ? t("settings.secretSaved") : t("settings.secretNone")}
            </span>
          </label>
        </div>
        <label>
          {t("settings.camera")}
          <input id="settings-camera" value={draft.camera} onChange={(e) => set("camera", e.target.value)} />
        </label>
        {draft.environment !== "embedded-sandbox" && (
          <>
            <label>
              {t("settings.relayUrl")}
              <input id="settings-relay" value={draft.relayUrl} onChange={(e) => set("relayUrl", e.target.value)} />
            </label>
            <label>
              {t("settings.relayToken")}
              <input id="settings-relay-token" type="password" autoComplete="off" value={relayToken} onChange={(e) => setRelayToken(e.target.value)} />
              <span className="muted small">{view.hasRelayToken ? t("settings.secretSaved") : t("settings.secretNone")}</span>
            </label>
            <div>
              <button type="button" id="settings-relay-key" className="secondary" onClick={() => api.relayPublicKey().then(setRelayKey, (e) => setError(errorWords(e, t)))}>
                {t("settings.relayKey")}
              </button>
              {relayKey && <p className="small"><code id="relay-public-key">{relayKey}</code></p>}
            </div>
          </>
        )}
        <button id="settings-save" type="submit">{t("settings.save")}</button>
        {notice && <div id="notice" className="banner ok" role="status">{notice}</div>}
        {error && <div id="error" className="banner error" role="alert">{error}</div>}
      </form>
      <aside>
        <ConnectionTest afterwards={() => load().catch(() => {})} />
        <StaffList state={staff} changed={staffChanged} />
        {view.embedded && (
          <section className="line">
            <h3>{t("settings.line")}</h3>
            <p id="line-state" data-online={view.online}>
              {view.online ? t("settings.lineOn") : t("settings.lineOff")}
            </p>
            <button id="line-toggle" className="secondary" onClick={() => line(!view.online)}>
              {view.online ? t("settings.pullLine") : t("settings.plugLine")}
            </button>
          </section>
        )}
        <section>
          <h3>{t("settings.audit")}</h3>
          <ol id="audit" className="audit">
            {audit.map((a) => (
              <li key={a.seq}>
                <time>{new Date(a.at).toLocaleString()}</time> <b>{a.action}</b> {a.detail}
              </li>
            ))}
          </ol>
        </section>
      </aside>
    </div>
  );
}

const STEPS: CheckStep[] = ["credentials", "facility", "bridge", "relay", "callback"];

// Registers the facility and the bridge, then proves each step as the desk reports it (the last
// one can take a while: a callback from ABDM through the relay).
function ConnectionTest({ afterwards }: { afterwards: () => void }) {
  const t = useT();
  const [checks, setChecks] = useState<Check[] | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async () => {
    setRunning(true);
    setError(null);
    setChecks([]);
    const stop = await listen<Check>("connection-test", ({ payload }) => setChecks((c) => [...(c ?? []), payload]));
    try {
      setChecks(await api.testConnection());
    } catch (e) {
      setError(errorWords(e, t));
    } finally {
      stop();
      setRunning(false);
      afterwards();
    }
  };

  const done = checks && !running;
  const passed = done && checks.length === STEPS.length && checks.every((c) => c.ok);
  return (
    <section className="connection-test">
      <h3>{t("settings.test")}</h3>
      <p className="muted small">{t("settings.testHelp")}</p>
      <button id="test-connection" className="secondary" disabled={running} onClick={run}>
        {running ? t("settings.testing") : t("settings.testRun")}
      </button>
      {checks && (
        <ol id="connection-checks" className="checks">
          {STEPS.map((step, i) => {
            const check = checks.find((c) => c.step === step);
            const pending = !check && running && i === checks.length;
            if (!check && !pending) return null;
            return (
              <li key={step} data-step={step} data-ok={check ? String(check.ok) : "pending"} className={check ? (check.ok ? "ok" : "bad") : "pending"}>
                <span aria-hidden="true">{check ? (check.ok ? "✓" : "✗") : "…"}</span> <b>{t(`check.${step}`)}</b>
                {check && <div className="small">{check.detail}</div>}
              </li>
            );
          })}
        </ol>
      )}
      {done && checks.length > 0 && (
        <div id="test-result" className={`banner ${passed ? "ok" : "error"}`} role="status">
          {passed ? t("settings.testPassed") : t("settings.testFailed")}
        </div>
      )}
      {error && <div id="test-error" className="banner error" role="alert">{error}</div>}
    </section>
  );
}
