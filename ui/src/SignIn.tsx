import { useState } from "react";
import { api, errorWords, type Role, type StaffState } from "./api";
import { useT } from "./i18n";

// Who works the desk: pick your name, type your PIN. A new clinic first sets up its admin.
export function SignIn({ state, signedIn }: { state: StaffState; signedIn: (s: StaffState) => void }) {
  const t = useT();
  const [name, setName] = useState(state.staff[0]?.name ?? "");
  const [pin, setPin] = useState("");
  const [pin2, setPin2] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const setup = state.staff.length === 0;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    if (setup && pin !== pin2) return setError(t("signin.pinsDiffer"));
    setBusy(true);
    try {
      if (setup) await api.addStaff(name, "admin", pin);
      signedIn(await api.signIn(name, pin));
    } catch (err) {
      setError(errorWords(err, t));
      setPin("");
    } finally {
      setBusy(false);
    }
  };

  return (
    <form id="sign-in" className="sign-in" onSubmit={submit} noValidate>
      <h2>{setup ? t("signin.setupTitle") : t("signin.title")}</h2>
      {setup && <p className="muted">{t("signin.setupHelp")}</p>}
      {setup ? (
        <label>
          {t("signin.name")}
          <input id="sign-in-name" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
        </label>
      ) : (
        <div className="staff-list" role="radiogroup" aria-label={t("signin.name")}>
          {state.staff.map((s) => (
            <button type="button" key={s.name} role="radio" aria-checked={name === s.name} data-name={s.name}
              className={name === s.name ? "on" : "secondary"} onClick={() => setName(s.name)}>
              {s.name} <span className="small">({t(`role.${s.role}`)})</span>
            </button>
          ))}
        </div>
      )}
      <label>
        {t("signin.pin")}
        <input id="sign-in-pin" type="password" inputMode="numeric" autoComplete="off" value={pin}
          onChange={(e) => setPin(e.target.value)} autoFocus={!setup} />
      </label>
      {setup && (
        <label>
          {t("signin.pinAgain")}
          <input id="sign-in-pin2" type="password" inputMode="numeric" autoComplete="off" value={pin2} onChange={(e) => setPin2(e.target.value)} />
        </label>
      )}
      <button id="sign-in-submit" type="submit" disabled={busy || !name}>{setup ? t("signin.setup") : t("signin.submit")}</button>
      {error && <div id="sign-in-error" className="banner error" role="alert">{error}</div>}
      {state.training && !setup && <p className="muted small" id="training-pins">{t("signin.training")}</p>}
    </form>
  );
}

// The admin's staff list: add a receptionist, a doctor or another admin.
export function StaffList({ state, changed }: { state: StaffState; changed: (s: StaffState) => void }) {
  const t = useT();
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("reception");
  const [pin, setPin] = useState("");
  const [error, setError] = useState<string | null>(null);

  const add = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      changed(await api.addStaff(name, role, pin));
      setName("");
      setPin("");
    } catch (err) {
      setError(errorWords(err, t));
    }
  };

  return (
    <section>
      <h3>{t("staff.title")}</h3>
      <ul id="staff-list" className="plain">
        {state.staff.map((s) => (
          <li key={s.name} data-name={s.name}>
            {s.name} — {t(`role.${s.role}`)}{" "}
            {s.name !== state.signedIn?.name && (
              <button className="remove-staff secondary" onClick={() => api.removeStaff(s.name).then(changed, (e) => setError(errorWords(e, t)))}>
                {t("staff.remove")}
              </button>
            )}
          </li>
        ))}
      </ul>
      <form id="staff-add" onSubmit={add} noValidate>
        <div className="row">
          <label>
            {t("signin.name")}
            <input id="staff-name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label>
            {t("staff.role")}
            <select id="staff-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {(["reception", "doctor", "admin"] as const).map((r) => (
                <option key={r} value={r}>{t(`role.${r}`)}</option>
              ))}
            </select>
          </label>
          <label>
            {t("signin.pin")}
            <input id="staff-pin" type="password" autoComplete="off" value={pin} onChange={(e) => setPin(e.target.value)} />
          </label>
        </div>
        <button id="staff-submit" type="submit" className="secondary">{t("staff.add")}</button>
        {error && <div className="banner error" role="alert">{error}</div>}
      </form>
    </section>
  );
}
