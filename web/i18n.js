// The interface's strings: one catalogue per language (web/i18n/*.json),
// dates and numbers through Intl in the same language.

let lang = 'en';
let messages = {};
let fallback = {};

export const LANGUAGES = { en: 'English', fr: 'Français' };

export async function load() {
  const asked = document.documentElement.lang;
  lang = asked in LANGUAGES ? asked : 'en';
  const get = async (l) => (await fetch(`/assets/i18n/${l}.json`)).json();
  fallback = await get('en');
  messages = lang === 'en' ? fallback : await get(lang);
}

export function language() { return lang; }

/** t('comments.count', {count: 3}) — `{name}` placeholders; plural forms as
 * objects keyed by Intl.PluralRules categories. */
export function t(key, vars = {}) {
  let m = messages[key] ?? fallback[key];
  if (m === undefined) return key;
  if (typeof m === 'object') {
    const cat = new Intl.PluralRules(lang).select(Number(vars.count ?? 0));
    m = m[cat] ?? m.other;
  }
  return m.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? fmtValue(vars[k]) : `{${k}}`));
}

function fmtValue(v) {
  return typeof v === 'number' ? number(v) : String(v);
}

export function number(n) { return new Intl.NumberFormat(lang).format(n); }

/** A date and time in the viewer's own time zone, with the zone shown. */
export function dateTime(iso) {
  return new Intl.DateTimeFormat(lang, {
    year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  }).format(new Date(iso));
}

export function date(iso) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium' }).format(new Date(iso));
}

/** "in 3 days", "2 hours ago". */
export function relative(iso, now = Date.now()) {
  const diff = (new Date(iso).getTime() - now) / 1000;
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const abs = Math.abs(diff);
  const [unit, size] = abs < 60 ? ['second', 1] : abs < 3600 ? ['minute', 60]
    : abs < 86400 ? ['hour', 3600] : ['day', 86400];
  return rtf.format(Math.round(diff / size), unit);
}

/** Switch language: kept in a cookie the server reads for the page shell. */
export function choose(l) {
  document.cookie = `kitreview_lang=${l}; Path=/; Max-Age=31536000; SameSite=Lax`;
  location.reload();
}
