// The checks a receptionist sees before anything is sent; the desk checks again.
import type { Translate } from "./i18n";
import type { WalkIn } from "./api";

export function checkWalkIn(w: WalkIn, t: Translate): Record<string, string> {
  const problems: Record<string, string> = {};
  if (w.name.trim().length === 0) problems.name = t("check.name");
  const year = new Date().getFullYear();
  if (w.yearOfBirth !== null && (w.yearOfBirth < 1900 || w.yearOfBirth > year))
    problems.yob = t("check.yob", { year });
  if (w.mobile && !/^(\+?91)?[6-9]\d{9}$/.test(w.mobile.replace(/[\s-]/g, "")))
    problems.mobile = t("check.mobile");
  const abha = (w.abha ?? "").trim();
  if (abha.includes("@")) {
    if (!/^[a-z0-9._]{4,32}@[a-z]+$/i.test(abha)) problems.abha = t("check.abhaAddress");
  } else if (abha.length > 0 && !/^\d{14}$/.test(abha.replace(/[\s-]/g, ""))) {
    problems.abha = t("check.abhaNumber");
  }
  return problems;
}

// Verhoeff, the check digit of Aadhaar numbers: a mistyped digit is caught before an OTP is sent.
const D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

export function verhoeffValid(digits: string): boolean {
  let c = 0;
  [...digits].reverse().forEach((d, i) => (c = D[c][P[i % 8][Number(d)]]));
  return c === 0;
}

export function checkAadhaar(text: string, t: Translate): string | null {
  const digits = text.replace(/[\s-]/g, "");
  if (!/^\d{12}$/.test(digits)) return t("check.aadhaarLength");
  if (/^[01]/.test(digits) || !verhoeffValid(digits)) return t("check.aadhaarChecksum");
  return null;
}

export function checkOtp(text: string, t: Translate): string | null {
  return /^\d{6}$/.test(text.trim()) ? null : t("check.otp");
}

export function checkMobile(text: string, t: Translate): string | null {
  return /^(\+?91)?[6-9]\d{9}$/.test(text.replace(/[\s-]/g, "")) ? null : t("check.mobile");
}
