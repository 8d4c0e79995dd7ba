// The Rust commands (src-tauri), typed. Every failure arrives as a UiError {code, message}.
import { invoke } from "@tauri-apps/api/core";

export interface UiError {
  code: string;
  message: string;
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
}

export interface OutboxRow {
  id: number;
  label: string;
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
}

export interface SettingsView {
  settings: Settings;
  hasClientSecret: boolean;
  online: boolean;
  embedded: boolean;
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

export const api = {
  reception: () => invoke<Reception>("reception"),
  findPatients: (query: string) => invoke<Patient[]>("find_patients", { query }),
  registerWalkIn: (walkIn: WalkIn) => invoke<QueueRow>("register_walk_in", { walkIn }),
  giveToken: (patientId: string) => invoke<QueueRow>("give_token", { patientId }),
  retryOutbox: (id: number) => invoke<void>("retry_outbox", { id }),
  printTokenSlip: (patientId: string) => invoke<string>("print_token_slip", { patientId }),
  printCounterPoster: () => invoke<string>("print_counter_poster"),
  settings: () => invoke<SettingsView>("settings"),
  saveSettings: (settings: Settings) => invoke<SettingsView>("save_settings", { settings }),
  saveClientSecret: (secret: string) => invoke<SettingsView>("save_client_secret", { secret }),
  setOnline: (online: boolean) => invoke<SettingsView>("set_online", { online }),
  auditLog: () => invoke<AuditRow[]>("audit_log"),
};

export function errorWords(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) return String((e as UiError).message);
  return String(e);
}
