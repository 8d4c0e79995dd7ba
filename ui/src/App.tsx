import { useCallback, useEffect, useState } from "react";
import { listen } from "@tauri-apps/api/event";
import { api, errorWords, type Language, type Reception as ReceptionData } from "./api";
import { I18n, translator } from "./i18n";
import { Reception } from "./Reception";
import { SettingsScreen } from "./Settings";

type Screen = "reception" | "settings";

export function App() {
  const [lang, setLang] = useState<Language>("en");
  const [screen, setScreen] = useState<Screen>("reception");
  const [data, setData] = useState<ReceptionData | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const t = translator(lang);

  useEffect(() => {
    api.settings().then((s) => setLang(s.settings.language)).catch(() => {});
  }, []);
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
  useEffect(() => {
    refresh();
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
    if (!loadError) return;
    const timer = setInterval(refresh, 5000);
    return () => clearInterval(timer);
  }, [loadError, refresh]);

  const switchLanguage = async () => {
    const next: Language = lang === "en" ? "hi" : "en";
    setLang(next);
    try {
      const view = await api.settings();
      await api.saveSettings({ ...view.settings, language: next });
    } catch {
      // The language still changes on screen; it is remembered once settings can be saved.
    }
  };

  // Keyboard first: Alt+1 reception, Alt+2 settings, Alt+L language.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey) return;
      if (e.key === "1") setScreen("reception");
      else if (e.key === "2") setScreen("settings");
      else if (e.key.toLowerCase() === "l") switchLanguage();
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const conn = data?.connection;
  return (
    <I18n.Provider value={t}>
      <header className="top">
        <h1>{t("app.title")}</h1>
        <nav>
          <button id="nav-reception" className={screen === "reception" ? "on" : ""} onClick={() => setScreen("reception")}>
            {t("nav.reception")}
          </button>
          <button id="nav-settings" className={screen === "settings" ? "on" : ""} onClick={() => setScreen("settings")}>
            {t("nav.settings")}
          </button>
        </nav>
        <div id="connection" className={`conn ${conn?.state ?? "connecting"}`} data-state={conn?.state ?? "connecting"} title={conn?.reason ?? ""}>
          <span className="dot" aria-hidden="true" />
          {t(`conn.${conn?.state ?? "connecting"}`)}
        </div>
        <button id="lang-toggle" className="lang" onClick={switchLanguage}>
          {t("lang.switch")}
        </button>
      </header>
      {loadError && <div className="banner error">{t("error.generic", { message: loadError })}</div>}
      <main>
        {screen === "reception" ? (
          <Reception data={data} refresh={refresh} />
        ) : (
          <SettingsScreen />
        )}
      </main>
    </I18n.Provider>
  );
}
