import { useEffect, useState } from "react";
import { api, errorWords, type Chart, type NewConsultation, type Reception as Data, type RxLine, type Vitals } from "./api";
import { useT } from "./i18n";
import { printed } from "./Reception";
import { Records } from "./Records";

const VITALS: [keyof Vitals, string][] = [
  ["systolic_mmhg", "mmHg"],
  ["diastolic_mmhg", "mmHg"],
  ["pulse_per_min", "/min"],
  ["spo2_percent", "%"],
  ["temperature_c", "°C"],
  ["respiratory_rate", "/min"],
  ["weight_kg", "kg"],
  ["height_cm", "cm"],
];

const noVitals: Vitals = {
  systolic_mmhg: null, diastolic_mmhg: null, pulse_per_min: null, spo2_percent: null,
  temperature_c: null, respiratory_rate: null, weight_kg: null, height_cm: null,
};
const emptyLine: RxLine = { drug: "", dose: "", frequency: "", duration: "", instructions: null };

const lines = (text: string) => text.split("\n").map((l) => l.trim()).filter(Boolean);

// The doctor's desk: today's queue on the left; the chosen patient's chart and today's
// consultation on the right.
export function Doctor({ data }: { data: Data | null }) {
  const t = useT();
  const [patientId, setPatientId] = useState<string | null>(null);
  const [chart, setChart] = useState<Chart | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = (id: string) => api.chart(id).then(setChart, (e) => setError(errorWords(e, t)));
  useEffect(() => {
    if (patientId) load(patientId);
  }, [patientId, data]);

  return (
    <div className="doctor">
      <section aria-labelledby="doctor-queue">
        <h2 id="doctor-queue">{t("queue.title")}</h2>
        {data && data.queue.length === 0 && <p className="muted">{t("queue.empty")}</p>}
        <ul id="doctor-patients" className="plain picks">
          {data?.queue.map((row) => (
            <li key={row.token}>
              <button data-patient={row.patient.name} className={row.patient.id === patientId ? "on" : "secondary"}
                onClick={() => { setPatientId(row.patient.id); setNotice(null); setError(null); }}>
                {row.token}. {row.patient.name}
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section className="chart">
        {!chart || chart.patient.id !== patientId ? (
          <p className="muted">{t("doctor.pick")}</p>
        ) : (
          <>
            <h2 id="chart-name">{chart.patient.name}</h2>
            <p className="muted" id="chart-abha">
              {chart.patient.abhaNumber ? `ABHA ${chart.patient.abhaNumber}${chart.patient.abhaAddress ? ` · ${chart.patient.abhaAddress}` : ""}` : t("queue.noAbha")}
            </p>
            {chart.abha?.linkTokenRetryAt && <TokenWait until={chart.abha.linkTokenRetryAt} />}
            {notice && <div id="doctor-notice" className="banner ok" role="status">{notice}</div>}
            {error && <div id="doctor-error" className="banner error" role="alert">{error}</div>}
            <h3>{t("doctor.visits")}</h3>
            <ul id="visits" className="plain">
              {chart.consultations.map((c) => (
                <li key={c.id} data-link={c.link}>
                  <b>{c.label}</b> — {c.diagnoses.map((d) => d.text).join(", ")}{" "}
                  <span className={`link ${c.link}`}>{t(`link.${c.link}`)}{c.linkError ? `: ${c.linkError}` : ""}</span>{" "}
                  <button className="print-rx secondary" onClick={() =>
                    api.printPrescription(chart.patient.id, c.id).then((p) => setNotice(printed(t, p)), (e) => setError(errorWords(e, t)))}>
                    {t("doctor.printRx")}
                  </button>
                </li>
              ))}
            </ul>
            <details id="chart-history">
              <summary>{t("doctor.history")}</summary>
              <ul className="plain small">
                {chart.history.map((a) => (
                  <li key={a.seq}>
                    <time>{new Date(a.at).toLocaleString()}</time> <b>{a.action}</b> {a.detail}
                  </li>
                ))}
              </ul>
            </details>
            <Records patientId={chart.patient.id} hasAbha={!!chart.patient.abhaAddress} refreshKey={data} />
            <Consultation patientId={chart.patient.id} saved={(words) => { setNotice(words); load(chart.patient.id); }} />
          </>
        )}
      </section>
    </div>
  );
}

function Consultation({ patientId, saved }: { patientId: string; saved: (words: string) => void }) {
  const t = useT();
  const [complaints, setComplaints] = useState("");
  const [vitals, setVitals] = useState<Vitals>(noVitals);
  const [diagnoses, setDiagnoses] = useState("");
  const [rx, setRx] = useState<RxLine[]>([{ ...emptyLine }]);
  const [investigations, setInvestigations] = useState("");
  const [procedures, setProcedures] = useState("");
  const [advice, setAdvice] = useState("");
  const [followUp, setFollowUp] = useState("");
  const [notes, setNotes] = useState("");
  const [files, setFiles] = useState<NewConsultation["attachments"]>([]);
  const [error, setError] = useState<string | null>(null);

  const setLine = (i: number, key: keyof RxLine, value: string) =>
    setRx(rx.map((l, j) => (j === i ? { ...l, [key]: value } : l)));
  const attach = async (list: FileList | null) => {
    const read = [...(list ?? [])].map(
      (f) =>
        new Promise<NewConsultation["attachments"][number]>((done, fail) => {
          const reader = new FileReader();
          reader.onload = () => done({ title: f.name, content_type: f.type, data_base64: String(reader.result).split(",")[1] ?? "" });
          reader.onerror = () => fail(reader.error);
          reader.readAsDataURL(f);
        }),
    );
    setFiles([...files, ...(await Promise.all(read))]);
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    const filled = rx.filter((l) => l.drug.trim() || l.dose.trim() || l.frequency.trim() || l.duration.trim());
    try {
      const c = await api.recordConsultation({
        patient_id: patientId,
        complaints: lines(complaints),
        vitals,
        diagnoses: lines(diagnoses).map((text) => ({ text, code: null })),
        prescription: filled.map((l) => ({ ...l, instructions: l.instructions?.trim() || null })),
        investigations: lines(investigations).map((name) => ({ name, result: null })),
        procedures: lines(procedures),
        advice: advice.trim() || null,
        follow_up: followUp || null,
        notes: notes.trim() || null,
        attachments: files,
      });
      setComplaints(""); setVitals(noVitals); setDiagnoses(""); setRx([{ ...emptyLine }]); setInvestigations("");
      setProcedures(""); setAdvice(""); setFollowUp(""); setNotes(""); setFiles([]);
      saved(t("doctor.saved", { label: c.label }));
    } catch (err) {
      setError(errorWords(err, t));
    }
  };

  return (
    <form id="consultation" onSubmit={submit} noValidate>
      <h3>{t("doctor.today")}</h3>
      <label>
        {t("doctor.complaints")}
        <textarea id="c-complaints" rows={2} value={complaints} onChange={(e) => setComplaints(e.target.value)} />
      </label>
      <fieldset className="vitals">
        <legend>{t("doctor.vitals")}</legend>
        {VITALS.map(([key, unit]) => (
          <label key={key}>
            {t(`vital.${key}`)} <span className="muted small">{unit}</span>
            <input id={`v-${key}`} type="number" step="any" inputMode="decimal" value={vitals[key] ?? ""}
              onChange={(e) => setVitals({ ...vitals, [key]: e.target.value === "" ? null : Number(e.target.value) })} />
          </label>
        ))}
      </fieldset>
      <label>
        {t("doctor.diagnoses")}
        <textarea id="c-diagnoses" rows={2} value={diagnoses} onChange={(e) => setDiagnoses(e.target.value)} />
      </label>
      <fieldset>
        <legend>{t("doctor.rx")}</legend>
        {rx.map((l, i) => (
          <div className="row rx" key={i} data-line={i}>
            {(["drug", "dose", "frequency", "duration", "instructions"] as const).map((key) => (
              <label key={key}>
                {t(`rx.${key}`)}
                <input className={`rx-${key}`} value={l[key] ?? ""} onChange={(e) => setLine(i, key, e.target.value)} />
              </label>
            ))}
          </div>
        ))}
        <button type="button" id="rx-add" className="secondary" onClick={() => setRx([...rx, { ...emptyLine }])}>{t("doctor.addRx")}</button>
      </fieldset>
      <div className="row">
        <label>
          {t("doctor.investigations")}
          <textarea id="c-investigations" rows={2} value={investigations} onChange={(e) => setInvestigations(e.target.value)} />
        </label>
        <label>
          {t("doctor.procedures")}
          <textarea id="c-procedures" rows={2} value={procedures} onChange={(e) => setProcedures(e.target.value)} />
        </label>
      </div>
      <div className="row">
        <label>
          {t("doctor.advice")}
          <textarea id="c-advice" rows={2} value={advice} onChange={(e) => setAdvice(e.target.value)} />
        </label>
        <label>
          {t("doctor.followUp")}
          <input id="c-follow-up" type="date" value={followUp} onChange={(e) => setFollowUp(e.target.value)} />
        </label>
      </div>
      <label>
        {t("doctor.notes")}
        <textarea id="c-notes" rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} />
      </label>
      <label>
        {t("doctor.files")} <span className="muted small">{files.map((f) => f.title).join(", ")}</span>
        <input id="c-files" type="file" multiple accept="application/pdf,image/jpeg,image/png" onChange={(e) => attach(e.target.files).catch((err) => setError(String(err)))} />
      </label>
      <button id="consultation-save" type="submit">{t("doctor.save")}</button>
      {error && <div id="consultation-error" className="banner error" role="alert">{error}</div>}
    </form>
  );
}

/** ABDM refuses another linking-token request for a while (ABDM-1092): how long, to the second. */
function TokenWait({ until }: { until: string }) {
  const t = useT();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const left = Math.max(0, Math.ceil((Date.parse(until) - now) / 1000));
  if (left === 0) return null;
  const clock = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  return (
    <p id="token-wait" className="banner" role="status">
      {t("doctor.tokenWait", { time: clock })}
    </p>
  );
}
