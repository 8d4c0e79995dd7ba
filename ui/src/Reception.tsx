import { useEffect, useRef, useState } from "react";
import { api, errorWords, type Patient, type Printed, type QueueRow, type Reception as Data, type WalkIn } from "./api";
import { genderWords, useT, type Translate } from "./i18n";
import { checkWalkIn } from "./validate";
import { AbhaDialog } from "./Abha";
import { ScanDialog } from "./Scan";

// A short two-tone chime: an arrival is heard even when nobody is looking at the screen.
function chime() {
  try {
    const audio = new AudioContext();
    [880, 1320].forEach((freq, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.value = 0.15;
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + i * 0.18);
      osc.stop(audio.currentTime + i * 0.18 + 0.15);
    });
  } catch {
    // No sound device: the visible cue remains.
  }
}

// Says where the PDF is, and whether it went to the viewer for printing.
export function printed(t: Translate, p: Printed): string {
  return t(p.opened ? "print.opened" : "print.saved", { path: p.path });
}

const emptyWalkIn: WalkIn = { name: "", gender: "F", yearOfBirth: null, mobile: null, abha: null };

export function Reception({ data, refresh }: { data: Data | null; refresh: () => Promise<void> }) {
  const t = useT();
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [arrived, setArrived] = useState<Set<number>>(new Set());
  const seen = useRef<Set<number> | null>(null);
  const [abhaFor, setAbhaFor] = useState<Patient | null>(null);
  const [scanning, setScanning] = useState(false);

  // Tokens given in answer to a patient's scan of the counter QR are arrivals: a chime and a
  // highlighted row when one appears.
  useEffect(() => {
    if (!data) return;
    const tokens = new Set(data.queue.map((r) => r.token));
    if (seen.current) {
      const fresh = data.queue.filter((r) => r.arrivedByScan && !seen.current!.has(r.token));
      if (fresh.length > 0) {
        chime();
        setArrived((old) => new Set([...old, ...fresh.map((r) => r.token)]));
        const last = fresh[fresh.length - 1];
        setNotice(t("queue.arrived", { name: last.patient.name, token: last.token }));
      }
    }
    seen.current = tokens;
  }, [data, t]);

  const act = async (work: () => Promise<string | void>) => {
    setError(null);
    try {
      const words = await work();
      if (words) setNotice(words);
      await refresh();
    } catch (e) {
      setError(errorWords(e, t));
    }
  };

  const onGiven = (row: QueueRow) => {
    return t("walkin.saved", { name: row.patient.name, token: row.token });
  };

  return (
    <div className="reception">
      <section className="queue" aria-labelledby="queue-title">
        <h2 id="queue-title">{t("queue.title")}</h2>
        {data && data.queue.length === 0 && <p className="muted">{t("queue.empty")}</p>}
        <table id="queue">
          <thead>
            <tr>
              <th>{t("queue.token")}</th>
              <th>{t("queue.patient")}</th>
              <th>{t("queue.abha")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data?.queue.map((row) => (
              <tr key={row.token} data-token={row.token} className={arrived.has(row.token) ? "arrived" : ""}>
                <td className="token">{row.token}</td>
                <td className="name">{row.patient.name}</td>
                <td className="abha">{row.patient.abhaAddress ?? row.patient.abhaNumber ?? <span className="muted">{t("queue.noAbha")}</span>}</td>
                <td className="actions">
                  <button className="print-slip" onClick={() => act(async () => printed(t, await api.printTokenSlip(row.patient.id)))}>
                    {t("queue.printSlip")}
                  </button>
                  {row.patient.abhaNumber ? (
                    <button className="print-card secondary" onClick={() => act(async () => printed(t, await api.printAbhaCard(row.patient.id)))}>
                      {t("queue.printCard")}
                    </button>
                  ) : (
                    <button className="link-abha secondary" onClick={() => setAbhaFor(row.patient)}>
                      {t("queue.abhaAction")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <button id="print-poster" className="secondary" onClick={() => act(async () => printed(t, await api.printCounterPoster()))}>
          {t("print.poster")}
        </button>
      </section>
      <section className="find">
        <button id="scan-card" className="scan-button" onClick={() => setScanning(true)}>
          {t("scan.open")}
        </button>
        <FindOrCreate act={act} onGiven={onGiven} />
        {notice && <div id="notice" className="banner ok" role="status">{notice}</div>}
        {error && <div id="error" className="banner error" role="alert">{error}</div>}
        <Outbox data={data} act={act} />
      </section>
      {abhaFor && (
        <AbhaDialog
          patient={abhaFor}
          close={() => {
            setAbhaFor(null);
            refresh();
          }}
        />
      )}
      {scanning && (
        <ScanDialog
          close={(row) => {
            setScanning(false);
            if (row) setNotice(onGiven(row));
            refresh();
          }}
        />
      )}
    </div>
  );
}

function FindOrCreate({ act, onGiven }: { act: (w: () => Promise<string | void>) => Promise<void>; onGiven: (r: QueueRow) => string }) {
  const t = useT();
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<Patient[] | null>(null);
  const [walkIn, setWalkIn] = useState<WalkIn>(emptyWalkIn);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const search = useRef<HTMLInputElement>(null);

  useEffect(() => {
    search.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "/" && document.activeElement?.tagName !== "INPUT") {
        e.preventDefault();
        search.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  // Look the patient up as the receptionist types; the form is filled from the search.
  useEffect(() => {
    const q = query.trim();
    if (q.length < 2) {
      setFound(null);
      return;
    }
    const timer = setTimeout(() => api.findPatients(q).then(setFound).catch(() => setFound([])), 150);
    return () => clearTimeout(timer);
  }, [query]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const checked = checkWalkIn(walkIn, t);
    setProblems(checked);
    if (Object.keys(checked).length > 0) return;
    await act(async () => {
      const row = await api.registerWalkIn(walkIn);
      setWalkIn(emptyWalkIn);
      setQuery("");
      return onGiven(row);
    });
  };

  const field = (key: keyof WalkIn, value: string) =>
    setWalkIn((w) => ({ ...w, [key]: key === "yearOfBirth" ? (value ? Number(value) : null) : value || null }));

  return (
    <>
      <h2>{t("find.title")}</h2>
      <input
        id="search"
        ref={search}
        className="search"
        placeholder={t("find.search")}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          if (!/\d/.test(e.target.value)) setWalkIn((w) => ({ ...w, name: e.target.value }));
        }}
      />
      <p className="muted small">{t("find.searchHint")}</p>
      {found && found.length === 0 && <p id="find-none" className="muted">{t("find.none")}</p>}
      {found && found.length > 0 && (
        <ul id="found" className="found">
          {found.map((p) => (
            <li key={p.id} data-patient={p.id}>
              <span className="name">{p.name}</span>
              <span className="muted">{[genderWords(t, p.gender), p.dateOfBirth, p.mobile, p.abhaAddress ?? p.abhaNumber].filter(Boolean).join(" · ")}</span>
              <button className="give-token" onClick={() => act(async () => onGiven(await api.giveToken(p.id)))}>
                {t("find.giveToken")}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form id="walkin" className="walkin" onSubmit={submit} noValidate>
        <h3>{t("walkin.title")}</h3>
        <label>
          {t("walkin.name")}
          <input id="walkin-name" value={walkIn.name} onChange={(e) => field("name", e.target.value)} aria-invalid={!!problems.name} />
          {problems.name && <span className="problem">{problems.name}</span>}
        </label>
        <div className="row">
          <label>
            {t("walkin.gender")}
            <select id="walkin-gender" value={walkIn.gender} onChange={(e) => field("gender", e.target.value)}>
              <option value="F">{t("walkin.genderF")}</option>
              <option value="M">{t("walkin.genderM")}</option>
              <option value="O">{t("walkin.genderO")}</option>
            </select>
          </label>
          <label>
            {t("walkin.yob")}
            <input id="walkin-yob" inputMode="numeric" value={walkIn.yearOfBirth ?? ""} onChange={(e) => field("yearOfBirth", e.target.value.replace(/\D/g, ""))} aria-invalid={!!problems.yob} />
            {problems.yob && <span className="problem">{problems.yob}</span>}
          </label>
          <label>
            {t("walkin.mobile")}
            <input id="walkin-mobile" inputMode="tel" value={walkIn.mobile ?? ""} onChange={(e) => field("mobile", e.target.value)} aria-invalid={!!problems.mobile} />
            {problems.mobile && <span className="problem">{problems.mobile}</span>}
          </label>
        </div>
        <label>
          {t("walkin.abha")}
          <input id="walkin-abha" value={walkIn.abha ?? ""} onChange={(e) => field("abha", e.target.value)} aria-invalid={!!problems.abha} />
          {problems.abha && <span className="problem">{problems.abha}</span>}
        </label>
        <button id="walkin-submit" type="submit">{t("walkin.submit")}</button>
      </form>
    </>
  );
}

function Outbox({ data, act }: { data: Data | null; act: (w: () => Promise<string | void>) => Promise<void> }) {
  const t = useT();
  return (
    <>
      <h2>{t("outbox.title")}</h2>
      {data && data.outbox.length === 0 && <p className="muted">{t("outbox.empty")}</p>}
      <ul id="outbox" className="outbox">
        {data?.outbox.map((item) => (
          <li key={item.id} data-outbox={item.id} data-state={item.state} className={item.state}>
            <span className="label">
              {item.labelKey ? t(`outbox.label.${item.labelKey}`, Object.fromEntries(item.labelArgs.map((a, i) => [String(i), a]))) : item.label}
            </span>
            <span className="state" title={item.lastError ?? ""}>
              {t(`outbox.state.${item.state}`)}
              {item.state === "failed" ? `: ${item.words.replace(/^failed: /, "")}` : ""}
              {item.state === "queued" && item.lastError ? ` (${item.lastError})` : ""}
            </span>
            {item.canRetry && (
              <button className="retry" onClick={() => act(() => api.retryOutbox(item.id))}>
                {t("outbox.retry")}
              </button>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}
