import { useEffect, useState } from "react";
import { listen } from "@tauri-apps/api/event";
import { api, errorWords, type QueueRow, type ScanUpdate, type ScannedProfile } from "./api";
import { genderWords, useT } from "./i18n";

// Scan and pull: the camera's live picture, the card it reads shown for confirmation, and only
// the receptionist's confirmation saves the patient.
export function ScanDialog({ close }: { close: (row: QueueRow | null) => void }) {
  const t = useT();
  const [frame, setFrame] = useState<string | null>(null);
  const [profile, setProfile] = useState<ScannedProfile | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [ended, setEnded] = useState(false);

  useEffect(() => {
    const stop = listen<ScanUpdate>("scan", ({ payload }) => {
      if (payload.kind === "preview") setFrame(payload.image);
      else if (payload.kind === "found") setProfile(payload.profile);
      else if (payload.kind === "problem") setProblem(t(`scan.problem.${payload.code}`, { message: payload.message }));
      else setEnded(true);
    });
    stop.then(() => api.startScan()).catch((e) => setProblem(errorWords(e, t)));
    return () => {
      stop.then((unlisten) => unlisten());
      api.stopScan().catch(() => {});
    };
  }, []);

  const confirm = async () => {
    try {
      close(await api.confirmScan(profile?.abha_number ?? ""));
    } catch (e) {
      setProblem(errorWords(e, t));
    }
  };
  const again = () => {
    setProfile(null);
    setProblem(null);
    setEnded(false);
    api.startScan().catch((e) => setProblem(errorWords(e, t)));
  };

  return (
    <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="scan-title">
      <div className="panel wide">
        <h2 id="scan-title">{t("scan.title")}</h2>
        <div className="scan">
          <div className="preview">
            {frame ? <img id="scan-preview" src={frame} alt={t("scan.preview")} /> : <p className="muted">{t("scan.starting")}</p>}
          </div>
          <div className="found-card">
            {profile ? (
              <dl id="scan-profile">
                <dt>{t("walkin.name")}</dt>
                <dd>{profile.name}</dd>
                <dt>{t("scan.abhaNumber")}</dt>
                <dd>{profile.abha_number ?? "—"}</dd>
                <dt>{t("scan.abhaAddress")}</dt>
                <dd>{profile.abha_address ?? "—"}</dd>
                <dt>{t("walkin.gender")}</dt>
                <dd>{genderWords(t, profile.gender)}</dd>
                <dt>{t("scan.born")}</dt>
                <dd>{profile.date_of_birth.text ?? "—"}</dd>
              </dl>
            ) : (
              <p className="muted">{ended ? t("scan.nothing") : t("scan.hold")}</p>
            )}
            {problem && <div id="scan-problem" className="banner error" role="alert">{problem}</div>}
          </div>
        </div>
        <div className="row end">
          {(ended || problem) && !profile && <button id="scan-again" className="secondary" onClick={again}>{t("scan.again")}</button>}
          {profile && <button id="scan-confirm" onClick={confirm}>{t("scan.confirm")}</button>}
          <button id="scan-close" className="secondary" onClick={() => close(null)}>{t("abha.cancel")}</button>
        </div>
      </div>
    </div>
  );
}
