// The directory of all ATD (/api/atd), sortable by its figures; a row opens the ATD's card.
import { $, el, fill, nf, pf, getJson } from './dom.js';
import { state } from './state.js';
import { ATD_KIND_LABELS } from './labels.js';

const COLUMNS = [
  { key: 'name', label: 'ATD' }, { key: 'covered', label: 'Couvertes', num: true }, { key: 'obliged', label: 'Obligées', num: true },
  { key: 'obligedOpen', label: 'Obligées ouvertes', num: true }, { key: 'obligedOpenRate', label: 'Taux', num: true },
];
const d = { sort: 'covered', desc: true, rows: [] };
let onAtd = () => {};

export function initDirectory(selectAtd) {
  onAtd = selectAtd;
  fill($('atd-head'), el('tr', null, COLUMNS.map((c) => el('th', { scope: 'col', 'aria-sort': 'none', dataset: { key: c.key }, class: c.num ? 'num' : null },
    el('button', { type: 'button', class: 'sort', on: { click: () => { if (d.sort === c.key) d.desc = !d.desc; else { d.sort = c.key; d.desc = !!c.num; } render(); } } }, c.label)))));
}

/** An ATD's name, once the directory is loaded. */
export const atdName = (id) => (d.rows.find((a) => a.id === id) || {}).name;

export async function loadDirectory() {
  d.rows = await getJson('/api/atd' + (state.date ? '?date=' + state.date : ''));
  render();
}

function render() {
  const k = d.sort, sign = d.desc ? -1 : 1;
  const rows = d.rows.slice().sort((a, b) => {
    const x = a[k], y = b[k];
    if (x == null || y == null) return x == null ? (y == null ? 0 : 1) : -1;
    return (typeof x === 'string' ? x.localeCompare(y, 'fr') : x - y) * sign || a.name.localeCompare(b.name, 'fr');
  });
  fill($('atd-body'), rows.map((a) => el('tr', null,
    el('th', { scope: 'row' }, el('button', { type: 'button', class: 'link', on: { click: () => onAtd(a.id, true) } }, a.name),
      el('span', { class: 'note' }, ' ' + (ATD_KIND_LABELS[a.kind] || a.kind))),
    el('td', { class: 'num' }, nf.format(a.covered)), el('td', { class: 'num' }, nf.format(a.obliged)),
    el('td', { class: 'num' }, nf.format(a.obligedOpen)), el('td', { class: 'num' }, a.obligedOpenRate == null ? '—' : pf.format(a.obligedOpenRate)))));
  for (const th of $('atd-head').querySelectorAll('th')) th.setAttribute('aria-sort', th.dataset.key === d.sort ? (d.desc ? 'descending' : 'ascending') : 'none');
  fill($('atd-count'), nf.format(d.rows.length) + ' ATD');
}
