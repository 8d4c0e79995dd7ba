import { useCallback, useEffect, useState } from "react";
import { listen } from "@tauri-apps/api/event";
import { api, errorWords, type Language, type Reception as ReceptionData, type StaffState } from "./api";
import { I18n, translator } from "./i18n";
import { Doctor } from "./Doctor";
import { Reception } from "./Reception";
import { SettingsScreen } from "./Settings";
import { SignIn } from "./SignIn";

// The screen locks after this long without a key or a click (the desk enforces it too).
const IDLE_LOCK_MS = 10 * 60 * 1000;

type Screen = "reception" | "doctor" | "settings";

export function App() {
  const [lang, setLang] = useState<Language>("en");
  const [screen, setScreen] = useState<Screen>("reception");
  const [data, setData] = useState<ReceptionData | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [staff, setStaff] = useState<StaffState | null>(null);
  const t = translator(lang);

  const who = useCallback(() => {
    api
      .staffState()
      .then((s) => {
        setStaff(s);
        setLang(s.language);
      })
      .catch((e) => setLoadError(errorWords(e, t)));
  }, []);
  useEffect(() => {
    who();
    // A command refused for want of a signed-in person (the desk locked): back to sign-in.
    window.addEventListener("signed-out", who);
    return () => window.removeEventListener("signed-out", who);
  }, [who]);
  // Idle lock: no key or click for a while signs the person out on screen.
  useEffect(() => {
    if (!staff?.signedIn) return;
    let last = Date.now();
    let timer = setTimeout(lock, IDLE_LOCK_MS);
    const active = () => {
      // Timers stop while the machine sleeps: the wall clock decides after a wake-up.
      if (Date.now() - last > IDLE_LOCK_MS) return lock();
      last = Date.now();
      clearTimeout(timer);
      timer = setTimeout(lock, IDLE_LOCK_MS);
    };
    window.addEventListener("keydown", active);
    window.addEventListener("mousedown", active);
    return () => {
      clearTimeout(timer);
      window.removeEventListener("keydown", active);
      window.removeEventListener("mousedown", active);
    };
  }, [staff?.signedIn?.name]);
  const lock = () => {
    setScreen("reception");
    setData(null);
    api.signOut().then(setStaff, who);
  };
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  // The shell sends the reception view after every saved change (arrivals, tokens, outbox
  // progress) and the connection as it changes; nothing polls while the desk runs.
  const refresh = useCallback(async () => {
    try {
      setData(await api.reception());
      setLoadError(null);
    } catch (e) {
      setLoadError(errorWords(e, t));
    }
  }, []);
  const signedInName = staff?.signedIn?.name;
  useEffect(() => {
    if (signedInName) refresh();
  }, [signedInName, refresh]);
  useEffect(() => {
    const stops = [
      listen<ReceptionData>("reception", ({ payload }) => {
        setData(payload);
        setLoadError(null);
      }),
      listen<ReceptionData["connection"]>("connection", ({ payload }) =>
        setData((d) => (d ? { ...d, connection: payload } : d)),
      ),
    ];
    return () => stops.forEach((stop) => stop.then((unlisten) => unlisten()));
  }, [refresh]);
  // A desk that could not start is asked again now and then (the shell retries its start).
  useEffect(() => {
    if (!loadError || !signedInName) return;
    const timer = setInterval(refresh, 5000);
    return () => clearInterval(timer);
  }, [loadError, signedInName, refresh]);

  const switchLanguage = async () => {
    const next: Language = lang === "en" ? "hi" : "en";
    setLang(next);
    // The language still changes on screen if it cannot be remembered.
    await api.setLanguage(next).catch(() => {});
  };

  // Keyboard first: Alt+1 reception, Alt+2 settings, Alt+L language.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey) return;
      if (e.key === "1") setScreen("reception");
      else if (e.key === "2" && admin) setScreen("settings");
      else if (e.key.toLowerCase() === "l") switchLanguage();
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const conn = data?.connection;
  const signedIn = staff?.signedIn ?? null;
  const admin = signedIn?.role === "admin";
  const isDoctor = signedIn?.role === "doctor";
  return (
    <I18n.Provider value={t}>
      <header className="top">
        <h1>{t("app.title")}</h1>
        <nav hidden={!signedIn}>
          <button id="nav-reception" className={screen === "reception" ? "on" : ""} onClick={() => setScreen("reception")}>
            {t("nav.reception")}
          </button>
          {isDoctor && (
            <button id="nav-doctor" className={screen === "doctor" ? "on" : ""} onClick={() => setScreen("doctor")}>
              {t("nav.doctor")}
            </button>
          )}
          {admin && (
            <button id="nav-settings" className={screen === "settings" ? "on" : ""} onClick={() => setScreen("settings")}>
              {t("nav.settings")}
            </button>
          )}
        </nav>
        <div id="connection" className={`conn ${conn?.state ?? "connecting"}`} data-state={conn?.state ?? "connecting"} title={conn?.reason ?? ""}>
          <span className="dot" aria-hidden="true" />
          {t(`conn.${conn?.state ?? "connecting"}`)}
        </div>
        <button id="lang-toggle" className="lang" onClick={switchLanguage}>
          {t("lang.switch")}
        </button>
        {signedIn && (
          <div className="who">
            <span id="signed-in" data-role={signedIn.role}>
              {signedIn.name} ({t(`role.${signedIn.role}`)})
            </span>
            <button id="lock" className="lang" onClick={lock}>
              {t("signin.lock")}
            </button>
          </div>
        )}
      </header>
      {loadError && signedInName && <div className="banner error">{t("error.generic", { message: loadError })}</div>}
      <main>
        {!staff ? null : !signedIn ? (
          <SignIn state={staff} signedIn={setStaff} />
        ) : screen === "doctor" && isDoctor ? (
          <Doctor data={data} />
        ) : screen === "settings" && admin ? (
          <SettingsScreen staff={staff} staffChanged={setStaff} />
        ) : (
          <Reception data={data} refresh={refresh} />
        )}
      </main>
    </I18n.Provider>
  );
}
