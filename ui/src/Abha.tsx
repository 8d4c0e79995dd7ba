import { useEffect, useState } from "react";
import { api, errorWords, type AccountChoice, type LoginMethod, type Patient } from "./api";
import { useT } from "./i18n";
import { checkAadhaar, checkMobile, checkOtp } from "./validate";

// ABDM allows another OTP after a wait; the button shows how long.
const RESEND_WAIT_S = 60;

type Step = "aadhaar" | "otp" | "mobileOtp" | "address" | "linkId" | "linkOtp" | "linkChoose" | "done";

// Create an ABHA with Aadhaar OTP (with the mobile branch), or link one the patient has.
export function AbhaDialog({ patient, close }: { patient: Patient; close: (done: boolean) => void }) {
  const t = useT();
  const [mode, setMode] = useState<"create" | "link">("create");
  const [step, setStep] = useState<Step>("aadhaar");
  const [txn, setTxn] = useState("");
  const [aadhaar, setAadhaar] = useState("");
  const [agreed, setAgreed] = useState(false);
  const [otp, setOtp] = useState("");
  const [mobile, setMobile] = useState(patient.mobile ?? "");
  const [suggestions, setSuggestions] = useState<string[]>([]);
  const [address, setAddress] = useState("");
  const [linkId, setLinkId] = useState("");
  const [method, setMethod] = useState<LoginMethod>("MobileOtp");
  // Linking by a mobile number (ABDM v3): the ABHAs on it, and the one chosen.
  const [byMobile, setByMobile] = useState(false);
  const [choices, setChoices] = useState<AccountChoice[]>([]);
  const [choice, setChoice] = useState("");
  const [result, setResult] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [wait, setWait] = useState(0);

  useEffect(() => {
    if (wait <= 0) return;
    const timer = setTimeout(() => setWait(wait - 1), 1000);
    return () => clearTimeout(timer);
  }, [wait]);

  const run = async (work: () => Promise<void>) => {
    setProblem(null);
    setBusy(true);
    try {
      await work();
    } catch (e) {
      setProblem(errorWords(e, t));
    } finally {
      setBusy(false);
    }
  };
  const check = (...problems: (string | null)[]) => {
    const first = problems.find((p) => p);
    if (first) setProblem(first);
    return !first;
  };

  const sendAadhaarOtp = () =>
    check(checkAadhaar(aadhaar, t), agreed ? null : t("abha.consentNeeded")) &&
    run(async () => {
      setTxn(await api.abhaCreateStart(aadhaar.replace(/\D/g, "")));
      setAadhaar(""); // The Aadhaar number is not kept on screen once the OTP is sent.
      setOtp("");
      setWait(RESEND_WAIT_S);
      setStep("otp");
    });
  const resend = () =>
    run(async () => {
      setTxn(await api.abhaCreateResend(txn));
      setWait(RESEND_WAIT_S);
    });
  const verifyOtp = () =>
    check(checkOtp(otp, t), checkMobile(mobile, t)) &&
    run(async () => {
      const mobileOtpSent = await api.abhaCreateVerify(txn, otp.trim(), mobile.replace(/\D/g, "").slice(-10));
      setOtp("");
      if (mobileOtpSent) setStep("mobileOtp");
      else await loadSuggestions();
    });
  const verifyMobileOtp = () =>
    check(checkOtp(otp, t)) &&
    run(async () => {
      await api.abhaCreateVerifyMobile(txn, otp.trim());
      setOtp("");
      await loadSuggestions();
    });
  const loadSuggestions = async () => {
    const list = await api.abhaCreateSuggestions(txn, patient.id);
    setSuggestions(list);
    setAddress(list[0] ?? "");
    setStep("address");
  };
  const finish = () =>
    run(async () => {
      const abha = await api.abhaCreateFinish(txn, patient.id, address.trim() || null);
      setResult(`${abha.abhaNumber} · ${abha.abhaAddress ?? ""}`);
      setStep("done");
    });

  const findAbha = () => {
    const digits = linkId.replace(/[\s-]/g, "");
    // Ten digits: the patient's mobile; twelve: their Aadhaar number (ABDM v3 finds the ABHA).
    if (/^\d{10}$/.test(digits)) {
      return run(async () => {
        setTxn(await api.linkStartByMobile(digits));
        setByMobile(true);
        setOtp("");
        setStep("linkOtp");
      });
    }
    if (/^\d{12}$/.test(digits)) {
      return (
        check(checkAadhaar(digits, t)) &&
        run(async () => {
          setTxn(await api.linkStartByAadhaar(digits));
          setLinkId(""); // The Aadhaar number is not kept on screen once the OTP is sent.
          setMethod("AadhaarOtp");
          setByMobile(false);
          setOtp("");
          setStep("linkOtp");
        })
      );
    }
    return findByAbha();
  };
  const findByAbha = () =>
    check(linkId.trim() ? null : t("abha.idNeeded")) &&
    run(async () => {
      setByMobile(false);
      const found = await api.linkSearch(linkId.trim());
      const chosen = found.methods.includes(method) ? method : found.methods[0];
      setMethod(chosen);
      setTxn(await api.linkStart(linkId.trim(), chosen));
      setOtp("");
      setWait(RESEND_WAIT_S);
      setStep("linkOtp");
    });
  const finishLink = () =>
    check(checkOtp(otp, t)) &&
    run(async () => {
      if (byMobile) {
        const list = await api.linkMobileAccounts(txn, otp.trim());
        setOtp("");
        setChoices(list);
        // Family members often share a mobile: nothing is chosen for the patient unless the
        // mobile holds one ABHA.
        setChoice(list.length === 1 ? list[0].abhaNumber : "");
        setStep("linkChoose");
        return;
      }
      const abha = await api.linkFinish(txn, otp.trim(), method, patient.id);
      setResult(`${abha.abhaNumber} · ${abha.abhaAddress ?? ""}`);
      setStep("done");
    });
  const finishChoice = () =>
    check(choice ? null : t("abha.chooseNeeded")) &&
    run(async () => {
      const abha = await api.linkFinishChoice(txn, choice, patient.id);
      setResult(`${abha.abhaNumber} · ${abha.abhaAddress ?? ""}`);
      setStep("done");
    });

  const otpField = (
    <label>
      {t("abha.otp")}
      <input id="abha-otp" inputMode="numeric" autoComplete="one-time-code" autoFocus value={otp} onChange={(e) => setOtp(e.target.value)} />
    </label>
  );

  return (
    <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="abha-title">
      <div className="panel">
        <h2 id="abha-title">{t("abha.title", { name: patient.name })}</h2>
        {step !== "done" && (step === "aadhaar" || step === "linkId") && (
          <div className="tabs">
            <button id="abha-mode-create" className={mode === "create" ? "on" : ""} onClick={() => { setMode("create"); setStep("aadhaar"); }}>
              {t("abha.create")}
            </button>
            <button id="abha-mode-link" className={mode === "link" ? "on" : ""} onClick={() => { setMode("link"); setStep("linkId"); }}>
              {t("abha.link")}
            </button>
          </div>
        )}
        {step === "aadhaar" && (
          <>
            <label>
              {t("abha.aadhaar")}
              <input id="abha-aadhaar" inputMode="numeric" autoComplete="off" autoFocus value={aadhaar} onChange={(e) => setAadhaar(e.target.value)} />
            </label>
            <label className="check">
              <input id="abha-consent" type="checkbox" checked={agreed} onChange={(e) => setAgreed(e.target.checked)} />
              {t("abha.consent")}
            </label>
            <button id="abha-send" disabled={busy} onClick={sendAadhaarOtp}>{t("abha.sendOtp")}</button>
          </>
        )}
        {step === "otp" && (
          <>
            <p className="muted">{t("abha.otpSent")}</p>
            {otpField}
            <label>
              {t("abha.mobile")}
              <input id="abha-mobile" inputMode="tel" value={mobile} onChange={(e) => setMobile(e.target.value)} />
            </label>
            <div className="row">
              <button id="abha-verify" disabled={busy} onClick={verifyOtp}>{t("abha.verify")}</button>
              <button id="abha-resend" className="secondary" disabled={busy || wait > 0} onClick={resend}>
                {wait > 0 ? t("abha.resendIn", { s: wait }) : t("abha.resend")}
              </button>
            </div>
          </>
        )}
        {step === "mobileOtp" && (
          <>
            <p className="muted">{t("abha.mobileOtpSent", { mobile })}</p>
            {otpField}
            <button id="abha-verify-mobile" disabled={busy} onClick={verifyMobileOtp}>{t("abha.verify")}</button>
          </>
        )}
        {step === "address" && (
          <>
            <p className="muted">{t("abha.chooseAddress")}</p>
            <ul id="abha-suggestions" className="choices">
              {suggestions.map((s) => (
                <li key={s}>
                  <label className="check">
                    <input type="radio" name="address" value={s} checked={address === s} onChange={() => setAddress(s)} />
                    {s}
                  </label>
                </li>
              ))}
            </ul>
            <label>
              {t("abha.ownAddress")}
              <input id="abha-address" value={address} onChange={(e) => setAddress(e.target.value)} />
            </label>
            <button id="abha-finish" disabled={busy} onClick={finish}>{t("abha.finish")}</button>
          </>
        )}
        {step === "linkId" && (
          <>
            <label>
              {t("abha.linkId")}
              <input id="abha-link-id" autoFocus value={linkId} onChange={(e) => setLinkId(e.target.value)} />
            </label>
            <label>
              {t("abha.method")}
              <select id="abha-method" value={method} onChange={(e) => setMethod(e.target.value as LoginMethod)}>
                <option value="MobileOtp">{t("abha.methodMobile")}</option>
                <option value="AadhaarOtp">{t("abha.methodAadhaar")}</option>
              </select>
            </label>
            <button id="abha-link-send" disabled={busy} onClick={findAbha}>{t("abha.sendOtp")}</button>
          </>
        )}
        {step === "linkOtp" && (
          <>
            <p className="muted">{t("abha.otpSent")}</p>
            {otpField}
            <button id="abha-link-finish" disabled={busy} onClick={finishLink}>{t("abha.verify")}</button>
          </>
        )}
        {step === "linkChoose" && (
          <>
            <p className="muted">{t("abha.choose", { name: patient.name })}</p>
            <div id="abha-choices" role="radiogroup">
              {choices.map((c) => (
                <label key={c.abhaNumber} className="choice">
                  <input type="radio" name="abha-choice" value={c.abhaNumber} checked={choice === c.abhaNumber} onChange={() => setChoice(c.abhaNumber)} />
                  {c.name ?? ""} · {c.abhaNumber}{c.abhaAddress ? ` · ${c.abhaAddress}` : ""}
                </label>
              ))}
            </div>
            <button id="abha-choose-finish" disabled={busy} onClick={finishChoice}>{t("abha.chooseFinish")}</button>
          </>
        )}
        {step === "done" && (
          <p id="abha-result" className="banner ok">{t("abha.done", { abha: result })}</p>
        )}
        {problem && <div id="abha-problem" className="banner error" role="alert">{problem}</div>}
        <div className="row end">
          <button id="abha-close" className="secondary" onClick={() => close(step === "done")}>
            {step === "done" ? t("abha.close") : t("abha.cancel")}
          </button>
        </div>
      </div>
    </div>
  );
}
