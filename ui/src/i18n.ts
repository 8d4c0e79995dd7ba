// Every string the UI shows comes from locales/<language>.json.
import { createContext, useContext } from "react";
import en from "./locales/en.json";
import hi from "./locales/hi.json";
import type { Language } from "./api";

const tables: Record<Language, Record<string, string>> = { en, hi };

export type Translate = (key: string, vars?: Record<string, string | number>) => string;

export function translator(lang: Language): Translate {
  return (key, vars) => {
    let text = tables[lang][key] ?? tables.en[key] ?? key;
    for (const [name, value] of Object.entries(vars ?? {})) {
      text = text.split(`{${name}}`).join(String(value));
    }
    return text;
  };
}

export const I18n = createContext<Translate>(translator("en"));
export const useT = () => useContext(I18n);

// Gender as the patient's card and the form give it (M, F, O), in words.
export function genderWords(t: Translate, code: string): string {
  return ({ M: t("walkin.genderM"), F: t("walkin.genderF"), O: t("walkin.genderO") } as Record<string, string>)[code] ?? "";
}
