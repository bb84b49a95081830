// The table of collectivités beside the map: OData (/odata/Collectivites) with the map's filters,
// a name search ($search: accents and case ignored), sortable columns, pages, CSV export.
// It shows the latest status: OData has no date (the page says so when a date is chosen).
import { $, el, fill, nf, fmtDate, getJson } from './dom.js';
import { state } from './state.js';
import { TYPE_LABELS, BAND_LABELS } from './labels.js';

export const PAGE = 20;
const COLUMNS = [
  { key: 'Name', label: 'Nom' }, { key: 'Type', label: 'Type' }, { key: 'DepartementCode', label: 'Dép.' },
  { key: 'Population', label: 'Population', num: true }, { key: 'IsObliged', label: 'Obligée' }, { key: 'IsOpen', label: 'Ouverte' },
  { key: 'FirstSeenOpen', label: 'Ouverte depuis' }, { key: 'DatasetCount', label: 'Jeux', num: true },
];
const SELECT = ['Id', 'Name', 'Type', 'DepartementCode', 'Population', 'IsObliged', 'IsOpen', 'FirstSeenOpen', 'DatasetCount', 'Code', 'Siren', 'PopulationBand'];
const t = { sort: 'Population', desc: true, page: 0, q: '', count: 0, seq: 0 };
let onSelect = () => {};

const quote = (s) => "'" + s.replace(/'/g, "''") + "'";
/** The map's filters as an OData $filter (type list, band, obliged, covered or not by an ATD). */
export function odataFilter() {
  const f = [];
  if (state.type) f.push('Type in (' + state.type.split(',').map(quote).join(',') + ')');
  else f.push("Type ne 'COLOM'");
  if (state.band) f.push('PopulationBand eq ' + quote(state.band));
  if (state.obliged) f.push('IsObliged eq true');
  if (state.atd === 'true') f.push('AtdCount gt 0');
  else if (state.atd === 'false') f.push('AtdCount eq 0');
  return f.join(' and ');
}
export function odataQuery(extra) {
  // Unknown values last either way: the service sorts nulls as OData says (the smallest value, so last
  // in descending order, which an index serves for the default sort); ascending asks for it.
  const order = (t.desc ? t.sort + ' desc' : t.sort + ' eq null,' + t.sort) + ',Id';
  const q = new URLSearchParams({ $filter: odataFilter(), $select: SELECT.join(','), $orderby: order, ...extra });
  if (t.q) q.set('$search', '"' + t.q.replace(/"/g, '') + '"');
  return '/odata/Collectivites?' + q.toString();
}

export function initTable(select) {
  onSelect = select;
  fill($('table-head'), el('tr', null, COLUMNS.map((c) => el('th', { scope: 'col', 'aria-sort': 'none', dataset: { key: c.key }, class: c.num ? 'num' : null },
    el('button', { type: 'button', class: 'sort', on: { click: () => sortBy(c.key) } }, c.label)))));
  let timer = null;
  $('table-q').addEventListener('input', (e) => { clearTimeout(timer); timer = setTimeout(() => { t.q = e.target.value.trim(); t.page = 0; loadTable(); }, 200); });
  $('table-prev').addEventListener('click', () => { if (t.page > 0) { t.page--; loadTable(); } });
  $('table-next').addEventListener('click', () => { if ((t.page + 1) * PAGE < t.count) { t.page++; loadTable(); } });
  $('table-csv').addEventListener('click', exportCsv);
}

function sortBy(key) {
  if (t.sort === key) t.desc = !t.desc; else { t.sort = key; t.desc = key === 'Population' || key === 'DatasetCount'; }
  t.page = 0; loadTable();
}

/** Reloads the page of rows for the current filters; call with reset=true when a filter changed. */
export async function loadTable(reset) {
  if (reset) t.page = 0;
  const mine = ++t.seq, started = performance.now();
  const box = $('table-section');
  box.setAttribute('aria-busy', 'true');
  let d;
  try { d = await getJson(odataQuery({ $top: String(PAGE), $skip: String(t.page * PAGE), $count: 'true' })); }
  catch (e) { if (mine === t.seq) fill($('table-status'), 'Le tableau n’a pas pu être chargé (' + e.message + ').'); return; }
  if (mine !== t.seq) return;
  t.count = d['@odata.count'];
  fill($('table-body'), d.value.map((r) => el('tr', null,
    el('th', { scope: 'row' }, el('button', { type: 'button', class: 'link', on: { click: () => onSelect(r.Id) } }, r.Name)),
    el('td', null, TYPE_LABELS[r.Type] || r.Type), el('td', null, r.DepartementCode || ''),
    el('td', { class: 'num' }, r.Population != null ? nf.format(r.Population) : '—'),
    el('td', null, r.IsObliged ? 'oui' : 'non'), el('td', null, r.IsOpen ? 'oui' : 'non'),
    el('td', null, r.FirstSeenOpen ? fmtDate(r.FirstSeenOpen) : ''), el('td', { class: 'num' }, r.DatasetCount != null ? nf.format(r.DatasetCount) : '—'))));
  for (const th of $('table-head').querySelectorAll('th')) th.setAttribute('aria-sort', th.dataset.key === t.sort ? (t.desc ? 'descending' : 'ascending') : 'none');
  const pages = Math.max(1, Math.ceil(t.count / PAGE));
  fill($('table-status'), nf.format(t.count) + ' collectivité' + (t.count > 1 ? 's' : '') + ' · page ' + nf.format(t.page + 1) + ' sur ' + nf.format(pages) +
    (state.date ? ' · statut à la dernière observation (le tableau ne suit pas la date de la carte)' : ''));
  $('table-prev').disabled = t.page === 0;
  $('table-next').disabled = (t.page + 1) * PAGE >= t.count;
  box.setAttribute('aria-busy', 'false');
  box.dataset.loadedMs = String(Math.round(performance.now() - started));
  box.dataset.ready = String(mine);
}

// Every row of the filter, following @odata.nextLink, written as French CSV (";" separators, UTF-8 BOM
// so that spreadsheets read the accents).
async function exportCsv() {
  const btn = $('table-csv');
  btn.disabled = true;
  try {
    const head = ['Identifiant', 'Nom', 'Type', 'Code', 'SIREN', 'Département', 'Population', 'Strate', 'Obligée', 'Ouverte', 'Ouverte depuis', 'Jeux de données'];
    const lines = [head];
    let url = odataQuery({});
    while (url) {
      const d = await getJson(url);
      for (const r of d.value) lines.push([r.Id, r.Name, r.Type, r.Code, r.Siren, r.DepartementCode, r.Population, BAND_LABELS[r.PopulationBand] || r.PopulationBand,
        r.IsObliged ? 'oui' : 'non', r.IsOpen ? 'oui' : 'non', r.FirstSeenOpen, r.DatasetCount]);
      url = d['@odata.nextLink'] || null;
    }
    // Text starting like a formula (= + - @) gets an apostrophe so that a spreadsheet shows it as text
    // (CSV injection: names come from hand-made files); the server's CSV does the same (CsvReport.AsText).
    const cell = (v) => {
      const t = v == null ? '' : typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? "'" + v : String(v);
      return /[";\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
    };
    const blob = new Blob(['\ufeff' + lines.map((l) => l.map(cell).join(';')).join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    const a = el('a', { href: URL.createObjectURL(blob), download: 'observatoire-collectivites.csv' });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } finally { btn.disabled = false; }
}
