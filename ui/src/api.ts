// The Rust commands (src-tauri), typed. Every failure arrives as a UiError {code, message}.
import { invoke as tauriInvoke } from "@tauri-apps/api/core";

// Every command: a refusal because no one is signed in (or the screen locked) tells the app to
// show the sign-in screen.
async function invoke<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await tauriInvoke<T>(command, args);
  } catch (e) {
    if (e && typeof e === "object" && (e as UiError).code === "signed-out") window.dispatchEvent(new Event("signed-out"));
    throw e;
  }
}

export interface UiError {
  code: string;
  message: string;
  abdmCode?: string;
}

export interface Patient {
  id: string;
  name: string;
  gender: string;
  dateOfBirth: string;
  mobile: string | null;
  abhaNumber: string | null;
  abhaAddress: string | null;
}

export interface QueueRow {
  token: number;
  patient: Patient;
  arrivedByScan: boolean;
}

export interface OutboxRow {
  id: number;
  label: string;
  labelKey: string | null;
  labelArgs: string[];
  state: "queued" | "waiting" | "done" | "failed";
  words: string;
  attempts: number;
  lastError: string | null;
  canRetry: boolean;
}

export interface Reception {
  queue: QueueRow[];
  outbox: OutboxRow[];
  connection: { state: "online" | "connecting" | "offline" | "paused"; reason: string | null };
}

export type Language = "en" | "hi";

export interface Settings {
  clinicName: string;
  environment: "embedded-sandbox" | "abdm-sandbox" | "production";
  hipId: string;
  counterId: string;
  clientId: string;
  relayUrl: string;
  language: Language;
  camera: string;
  /** The ABDM generation; null: the environment's own (v3 for ABDM, v0.5 for the embedded sandbox). */
  abdmVersion: "v0.5" | "v3" | null;
}

export interface SettingsView {
  settings: Settings;
  hasClientSecret: boolean;
  hasRelayToken: boolean;
  online: boolean;
  embedded: boolean;
}

// One step of the connection test (settings).
export type CheckStep = "credentials" | "facility" | "bridge" | "relay" | "callback";
export interface Check {
  step: CheckStep;
  ok: boolean;
  detail: string;
}

export interface AuditRow {
  seq: number;
  at: string;
  action: string;
  detail: string;
}

export interface WalkIn {
  name: string;
  gender: string;
  yearOfBirth: number | null;
  mobile: string | null;
  abha: string | null;
}

export type Role = "reception" | "doctor" | "admin";

export interface StaffView {
  name: string;
  role: Role;
  training: boolean;
}

export interface StaffState {
  signedIn: StaffView | null;
  staff: StaffView[];
  training: boolean;
  language: Language;
}

// The doctor's desk (field names as the desk's consultation form has them).
export interface Vitals {
  systolic_mmhg: number | null;
  diastolic_mmhg: number | null;
  pulse_per_min: number | null;
  spo2_percent: number | null;
  temperature_c: number | null;
  respiratory_rate: number | null;
  weight_kg: number | null;
  height_cm: number | null;
}

export interface RxLine {
  drug: string;
  dose: string;
  frequency: string;
  duration: string;
  instructions: string | null;
}

export interface NewConsultation {
  patient_id: string;
  complaints: string[];
  vitals: Vitals;
  diagnoses: { text: string; code: string | null }[];
  prescription: RxLine[];
  investigations: { name: string; result: null }[];
  procedures: string[];
  advice: string | null;
  follow_up: string | null;
  notes: string | null;
  attachments: { title: string; content_type: string; data_base64: string }[];
}

export interface ConsultationView {
  id: string;
  label: string;
  date: string;
  doctor: string;
  complaints: string[];
  diagnoses: { text: string }[];
  prescription: RxLine[];
  link: "no_abha" | "queued" | "linking" | "linked" | "failed";
  linkError: string | null;
}

export interface Chart {
  patient: Patient;
  abha: AbhaView | null;
  consultations: ConsultationView[];
  history: AuditRow[];
}

// Records from elsewhere (M3) and the viewer model.
export interface ConsentRequestView {
  id: string;
  abdmId: string | null;
  status: "sending" | "requested" | "granted" | "denied" | "expired" | "revoked" | "failed";
  reason: string | null;
  hiTypes: string[];
  from: string;
  to: string;
  eraseAt: string;
  createdAt: string;
}

export interface RecordRow {
  id: string;
  consentId: string;
  title: string;
  careContext: string;
  hipId: string;
  receivedAt: string;
}

export interface ReceivedConsent {
  consentId: string;
  hip: string;
  hiTypes: string[];
  eraseAt: string;
  archived: string | null;
  archivedAt: string | null;
  records: RecordRow[];
}

export interface PatientRecords {
  requests: ConsentRequestView[];
  received: ReceivedConsent[];
}

export interface ViewerRow {
  reference: string;
  resourceType: string;
  summary: string;
  fields: Record<string, string>;
}

export interface ViewerSection {
  title: string | null;
  code: string | null;
  rows: ViewerRow[];
  missing: string[];
  sections: ViewerSection[];
}

export interface ViewerDocument {
  title: string | null;
  type: { code: string | null; display: string | null } | null;
  status: string | null;
  date: string | null;
  authors: string[];
  custodian: string | null;
  patient: { name: string | null; gender: string | null; birthDate: string | null; identifiers: { system: string | null; value: string | null }[] } | null;
  encounter: Record<string, string> | null;
  sections: ViewerSection[];
  attachments: { reference: string; title: string | null; contentType: string | null; size: number | null }[];
  warnings: string[];
}

export interface RecordView {
  row: RecordRow;
  document: ViewerDocument;
}

export const api = {
  askForRecords: (patientId: string) => invoke<ConsentRequestView>("ask_for_records", { patientId }),
  patientRecords: (patientId: string) => invoke<PatientRecords>("patient_records", { patientId }),
  openRecord: (recordId: string) => invoke<RecordView>("open_record", { recordId }),
  recordAttachment: (recordId: string, index: number) => invoke<{ contentType: string | null; dataBase64: string }>("record_attachment", { recordId, index }),
  openRecordAttachment: (recordId: string, index: number) => invoke<Printed>("open_record_attachment", { recordId, index }),
  printRecord: (recordId: string) => invoke<Printed>("print_record", { recordId }),
  exportRecord: (recordId: string) => invoke<Printed>("export_record", { recordId }),
  recordConsultation: (consultation: NewConsultation) => invoke<ConsultationView>("record_consultation", { consultation }),
  chart: (patientId: string) => invoke<Chart>("chart", { patientId }),
  printPrescription: (patientId: string, consultationId: string) => invoke<Printed>("print_prescription", { patientId, consultationId }),
  staffState: () => invoke<StaffState>("staff_state"),
  signIn: (name: string, pin: string) => invoke<StaffState>("sign_in", { name, pin }),
  signOut: () => invoke<StaffState>("sign_out"),
  addStaff: (name: string, role: Role, pin: string) => invoke<StaffState>("add_staff", { name, role, pin }),
  removeStaff: (name: string) => invoke<StaffState>("remove_staff", { name }),
  setLanguage: (language: Language) => invoke<void>("set_language", { language }),
  reception: () => invoke<Reception>("reception"),
  findPatients: (query: string) => invoke<Patient[]>("find_patients", { query }),
  registerWalkIn: (walkIn: WalkIn) => invoke<QueueRow>("register_walk_in", { walkIn }),
  giveToken: (patientId: string) => invoke<QueueRow>("give_token", { patientId }),
  retryOutbox: (id: number) => invoke<void>("retry_outbox", { id }),
  printTokenSlip: (patientId: string) => invoke<Printed>("print_token_slip", { patientId }),
  printCounterPoster: () => invoke<Printed>("print_counter_poster"),
  settings: () => invoke<SettingsView>("settings"),
  saveSettings: (settings: Settings) => invoke<SettingsView>("save_settings", { settings }),
  saveClientSecret: (secret: string) => invoke<SettingsView>("save_client_secret", { secret }),
  saveRelayToken: (token: string) => invoke<SettingsView>("save_relay_token", { token }),
  relayPublicKey: () => invoke<string>("relay_public_key"),
  testConnection: () => invoke<Check[]>("test_connection"),
  setOnline: (online: boolean) => invoke<SettingsView>("set_online", { online }),
  auditLog: () => invoke<AuditRow[]>("audit_log"),
  printAbhaCard: (patientId: string) => invoke<Printed>("print_abha_card", { patientId }),
  startScan: () => invoke<void>("start_scan"),
  stopScan: () => invoke<void>("stop_scan"),
  confirmScan: (abhaNumber: string) => invoke<QueueRow>("confirm_scan", { abhaNumber }),
  abhaCreateStart: (aadhaar: string) => invoke<string>("abha_create_start", { aadhaar }),
  abhaCreateResend: (txn: string) => invoke<string>("abha_create_resend", { txn }),
  abhaCreateVerify: (txn: string, otp: string, mobile: string) => invoke<boolean>("abha_create_verify", { txn, otp, mobile }),
  abhaCreateVerifyMobile: (txn: string, otp: string) => invoke<void>("abha_create_verify_mobile", { txn, otp }),
  abhaCreateSuggestions: (txn: string, patientId: string) => invoke<string[]>("abha_create_suggestions", { txn, patientId }),
  abhaCreateFinish: (txn: string, patientId: string, address: string | null) => invoke<AbhaView>("abha_create_finish", { txn, patientId, address }),
  linkSearch: (id: string) => invoke<Found>("link_search", { id }),
  linkStart: (id: string, method: LoginMethod) => invoke<string>("link_start", { id, method }),
  linkFinish: (txn: string, otp: string, method: LoginMethod, patientId: string) => invoke<AbhaView>("link_finish", { txn, otp, method, patientId }),
  linkStartByMobile: (mobile: string) => invoke<string>("link_start_by_mobile", { mobile }),
  linkMobileAccounts: (txn: string, otp: string) => invoke<AccountChoice[]>("link_mobile_accounts", { txn, otp }),
  linkFinishChoice: (txn: string, abhaNumber: string, patientId: string) =>
    invoke<AbhaView>("link_finish_choice", { txn, abhaNumber, patientId }),
  linkStartByAadhaar: (aadhaar: string) => invoke<string>("link_start_by_aadhaar", { aadhaar }),
};

export interface Printed {
  path: string;
  opened: boolean;
}

export type LoginMethod = "MobileOtp" | "AadhaarOtp";

export interface Found {
  name: string;
  methods: LoginMethod[];
}

/** One of the ABHAs on a mobile number (ABDM v3 login by mobile). */
export interface AccountChoice {
  abhaNumber: string;
  abhaAddress: string | null;
  name: string | null;
}

export interface AbhaView {
  abhaNumber: string;
  abhaAddress: string | null;
  name: string | null;
  /** ABDM v3 refuses another linking-token request until then (RFC 3339); null: no wait. */
  linkTokenRetryAt: string | null;
}

export interface ScannedProfile {
  abha_number: string | null;
  abha_address: string | null;
  name: string;
  gender: string;
  date_of_birth: { text: string | null };
}

export type ScanUpdate =
  | { kind: "preview"; image: string }
  | { kind: "found"; profile: ScannedProfile }
  | { kind: "problem"; code: "address-only" | "counter-code" | "number-only" | "unreadable" | "camera"; message: string }
  | { kind: "ended" };

// A failure in the chosen language where the UI knows it (ABDM's refusals and the common
// conditions, as actions); otherwise the desk's own plain words.
export function errorWords(e: unknown, t?: (key: string) => string): string {
  if (e && typeof e === "object" && "message" in e) {
    const err = e as UiError;
    for (const key of [err.abdmCode && `abdm.${err.abdmCode}`, `error.${err.code}`]) {
      if (key && t && t(key) !== key) return t(key);
    }
    return String(err.message);
  }
  return String(e);
}
