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
