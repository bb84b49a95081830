// The « Changements » mode: what changed between two dates (/api/changes, one SQL rule on the server),
// drawn on the map (layers.js showChanges) and listed beside it in three groups, with the map's filters
// (type, band, obliged, ATD). Without dates (chg=last) the server compares the two latest directory
// snapshots and says which; the page then writes those dates in the URL, so a copied link keeps them.
import { $, el, fill, nf, fmtDate, getJson } from './dom.js';
import { state, filterQuery, hasFilters } from './state.js';
import { TYPE_LABELS, sourceLabel } from './labels.js';
import { showChanges } from './layers.js';

const GROUPS = [
  { kind: 'new', id: 'chg-new', title: 'Nouvellement ouvertes', none: 'Aucune collectivité nouvellement ouverte.' },
  { kind: 'gone', id: 'chg-gone', title: 'N’apparaissent plus', none: 'Aucune collectivité disparue.' },
  { kind: 'data', id: 'chg-data', title: 'Jeux de données en hausse / en baisse', none: 'Aucun nombre de jeux de données changé.' },
];
let hooks = { select: () => {}, enter: () => {} };
let key = null, seq = 0;

const changesQuery = () => {
  const q = filterQuery({ date: false });
  if (state.chg && state.chg !== 'last') { const [from, to] = state.chg.split(','); q.set('from', from); q.set('to', to); }
  return q;
};

/** hooks.select(id): opens a collectivité's card; hooks.enter({chg, chgk, atd}): changes the mode (main.js). */
export function initChanges(h) {
  hooks = h;
  $('chg-open').addEventListener('click', () => hooks.enter({ chg: state.chg || 'last', chgk: '' }));
  $('chg-radar').addEventListener('click', () => hooks.enter({ chg: 'last', chgk: 'gone' }));
  $('chg-close').addEventListener('click', () => hooks.enter({ chg: '', chgk: '' }));
  for (const r of document.querySelectorAll('input[name=chgk]')) r.addEventListener('change', () => hooks.enter({ chg: state.chg, chgk: r.value }));
  const dates = () => {
    const from = $('chg-from').value, to = $('chg-to').value;
    if (!from || !to) return;
    if (from > to) { fill($('chg-summary'), el('span', { class: 'notice' }, 'La date « du » doit précéder la date « au ».')); return; }
    hooks.enter({ chg: from + ',' + to, chgk: state.chgk });
  };
  $('chg-from').addEventListener('change', dates);
  $('chg-to').addEventListener('change', dates);
}

/** Shows, loads or hides the mode after any change of the view state (same state, same answer: nothing done). */
export function syncChanges() {
  const on = Boolean(state.chg);
  $('chg-off').hidden = on;
  $('chg-on').hidden = !on;
  for (const r of document.querySelectorAll('input[name=chgk]')) r.checked = r.value === state.chgk;
  const next = on ? changesQuery().toString() + '|' + state.chgk : null;
  if (next === key) return;
  key = next;
  if (!on) { seq++; showChanges(null); $('changes').dataset.ready = '0'; return; }
  load();
}

async function load() {
  const mine = ++seq, box = $('changes');
  box.setAttribute('aria-busy', 'true');
  box.dataset.ready = '0';
  fill($('chg-summary'), 'Chargement…');
  let d;
  try { d = await getJson('/api/changes?' + changesQuery().toString()); }
  catch (e) {
    if (mine !== seq) return;
    fill($('chg-summary'), el('span', { class: 'notice' }, 'Les changements n’ont pas pu être chargés (' + e.message + ').'));
    box.setAttribute('aria-busy', 'false');
    return;
  }
  if (mine !== seq) return;
  if (state.chg === 'last') {
    // The server chose the two latest snapshots: the URL and the date fields now name them.
    state.chg = d.from + ',' + d.to;
    key = changesQuery().toString() + '|' + state.chgk;
    hooks.enter(null);
  }
  $('chg-from').value = d.from; $('chg-to').value = d.to;
  render(d);
  box.setAttribute('aria-busy', 'false');
  box.dataset.ready = '1';
}

function render(d) {
  const k = state.chgk, data = d.datasetChanges;
  const lists = { new: d.newlyOpen.map((c) => ({ ...c, kind: 'new' })), gone: d.noLongerListed.map((c) => ({ ...c, kind: 'gone' })), data: data.map((c) => ({ ...c, kind: c.change })) };
  // Dataset changes first: on the map, openings and disappearances are drawn over them.
  const items = ['data', 'new', 'gone'].filter((g) => !k || k === g).flatMap((g) => lists[g]);
  showChanges(items);

  const up = data.filter((c) => c.change === 'up').length;
  fill($('chg-summary'),
    el('p', { id: 'chg-dates' }, el('strong', null, 'Du ' + fmtDate(d.from) + ' au ' + fmtDate(d.to))),
    el('ul', { id: 'chg-counts', class: 'chg-counts' },
      el('li', null, 'Nouvellement ouvertes : ' + nf.format(d.newlyOpen.length)),
      el('li', null, 'N’apparaissent plus : ' + nf.format(d.noLongerListed.length)),
      el('li', null, 'Jeux de données en hausse : ' + nf.format(up) + ', en baisse : ' + nf.format(data.length - up))),
    el('p', { class: 'note', id: 'chg-age' }, 'Dernière observation de l’observatoire : ' + (d.lastObservation ? fmtDate(d.lastObservation) : 'aucune') +
      '. Chaque ligne dit l’observation qui fonde le statut à chaque date.' +
      (hasFilters() ? ' Filtres de la carte : ' + filtersText() + '.' : '')),
    d.lastObservation && d.to > d.lastObservation ? el('p', { class: 'note' }, 'Rien n’a été observé après le ' + fmtDate(d.lastObservation) +
      ' : la situation au ' + fmtDate(d.to) + ' est celle de cette dernière observation.') : null,
    d.observedFrom ? null : el('p', { class: 'notice' }, 'Rien n’était encore observé au ' + fmtDate(d.from) +
      ' : toute collectivité ouverte au ' + fmtDate(d.to) + ' compte comme nouvellement ouverte.'),
    d.truncated ? el('p', { class: 'notice', id: 'chg-truncated' }, 'Liste tronquée : trop de changements pour une seule réponse. ' +
      'Resserrez les dates ou les filtres ; le CSV est tronqué de même.') : null);
  const csv = changesQuery(); csv.set('from', d.from); csv.set('to', d.to); csv.set('format', 'csv');
  $('chg-csv').href = '/api/changes?' + csv.toString();

  fill($('chg-lists'), GROUPS.filter((g) => !k || k === g.kind).map((g) => el('section', { class: 'chg-group', 'aria-labelledby': g.id + '-h' },
    el('h3', { id: g.id + '-h' }, g.title + ' (' + nf.format(lists[g.kind].length) + ')'),
    lists[g.kind].length ? el('ul', { id: g.id, class: 'chg-list' }, lists[g.kind].map(item)) : el('p', { class: 'note', id: g.id }, g.none))));
}

// Not open on that side (before a newly open one, after a vanished one): no count, a dash; open with no count known: "inconnu".
// The map's filters in words, as their controls show them (an ATD's perimeter included).
function filtersText() {
  const words = [];
  for (const id of ['f-type', 'f-band', 'f-atd']) { const s = $(id); if (s.value && s.selectedOptions[0]) words.push(s.selectedOptions[0].textContent); }
  if (state.obliged) words.push('obligées seulement');
  return words.map((w) => w.charAt(0).toLowerCase() + w.slice(1)).join(', ');
}

const datasets = (n, open) => (n != null ? nf.format(n) : open ? 'inconnu' : '—');
// The observations behind the status on each date, in the card's history words (ouverte / non listée);
// one source named once when both come from it.
const status = (o) => (o.open ? 'ouverte' : 'non listée');
function observations(before, after) {
  if (!before || !after) {
    const one = (o, when) => when + ' : ' + (o ? status(o) + ' le ' + fmtDate(o.date) + ' (' + sourceLabel(o) + ')' : 'aucune observation');
    return one(before, 'avant') + ' · ' + one(after, 'après');
  }
  const same = sourceLabel(before) === sourceLabel(after);
  const src = (o) => ' (' + sourceLabel(o) + ')';
  if (before.open && after.open) return 'observée le ' + fmtDate(before.date) + (same ? '' : src(before)) + ' puis le ' + fmtDate(after.date) + src(after);
  return status(before) + ' le ' + fmtDate(before.date) + (same ? '' : src(before)) + ', ' + status(after) + ' le ' + fmtDate(after.date) + src(after);
}

// Both sides' counts per platform: a total can change only because one count became known (the
// April 2022 file's data.gouv.fr counts are unknown), which the reader should see.
function byPlatform(c) {
  const b = c.before, a = c.after;
  if (!b || !a || !b.open || !a.open) return null;
  const n = (v) => (v == null ? 'inconnu' : nf.format(v));
  return el('span', { class: 'note chg-platforms' }, ' (portail local : ' + n(b.datasetsLocal) + ' → ' + n(a.datasetsLocal) +
    ' ; data.gouv.fr : ' + n(b.datasetsDataGouv) + ' → ' + n(a.datasetsDataGouv) + ')');
}

function item(c) {
  const arrow = c.kind === 'up' ? '↑ ' : c.kind === 'down' ? '↓ ' : '';
  return el('li', { class: 'chg-' + c.kind, dataset: { id: c.id } },
    el('button', { type: 'button', class: 'link', on: { click: () => hooks.select(c.id) } }, c.name),
    el('span', { class: 'note' }, ' ' + (TYPE_LABELS[c.type] || c.type) + (c.departement ? ' · ' + c.departement : '')),
    el('br'),
    el('span', { class: 'chg-count' }, arrow + 'jeux de données : ' + datasets(c.datasetsBefore, c.kind !== 'new') + ' → ' + datasets(c.datasetsAfter, c.kind !== 'gone')),
    byPlatform(c),
    el('br'),
    el('span', { class: 'note' }, observations(c.before, c.after)));
}
