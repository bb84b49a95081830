// The card of a selection: a collectivité (figures, why it is or is not obliged, status history,
// platforms) or an ATD (figures, perimeter, seasons, to-do list, downloads, link to share).
import { $, el, fill, nf, pf, fmtDate, plural, getJson } from './dom.js';
import { state } from './state.js';
import { TYPE_LABELS, BAND_LABELS, ATD_KIND_LABELS, ATD_SCALE_LABELS, PERIMETER_LABELS, PLATFORM_MODE_LABELS, sourceLabel } from './labels.js';

const card = $('card'), body = $('card-body');
let seq = 0;
let hooks = { select: () => {}, selectAtd: () => {}, fit: () => {}, changes: () => {} };
export function connectCard(h) { hooks = h; }

const selButton = (id, name, attrs) => el('button', { type: 'button', class: 'link', ...attrs, on: { click: () => (id.startsWith('ATD-') ? hooks.selectAtd(id.slice(4), true) : hooks.select(id, true)) } }, name);

/** Opens the card of a selection id (COM-35238, ATD-rennes-metropole…); fly: fit the map to it. */
export async function showCard(id, fly) {
  const mine = ++seq;
  card.hidden = false;
  fill(body, el('p', { class: 'note' }, 'Chargement…'));
  try {
    const node = id.startsWith('ATD-') ? await atdCard(id.slice(4), fly) : await collectiviteCard(id, fly);
    if (mine !== seq) return;
    fill(body, node);
    if (window.matchMedia('(max-width: 760px)').matches) card.scrollIntoView({ block: 'start' });
  } catch (e) {
    if (mine !== seq) return;
    fill(body, el('p', { class: 'note' }, e.status === 404 ? 'Sélection inconnue.' : 'La fiche n’a pas pu être chargée (' + e.message + ').'));
  }
}
export function hideCard() { seq++; card.hidden = true; }

const dateQuery = () => (state.date ? '?date=' + state.date : '');

/* ---------- Collectivité ---------- */
async function collectiviteCard(id, fly) {
  const c = await getJson('/api/collectivites/' + encodeURIComponent(id) + dateQuery());
  if (fly && c.bbox) hooks.fit(c.bbox, c.type === 'COM' ? 12 : 10);
  // On a chosen date, the status of that day; otherwise the latest.
  const on = c.onDate || { open: c.open, datasets: c.datasets, firstSeenOpen: c.firstSeenOpen };
  const status = on.open ? el('span', { class: 'badge open' }, 'Ouverte')
    : c.obliged ? el('span', { class: 'badge obliged' }, 'Obligée, pas encore ouverte') : el('span', { class: 'badge other' }, 'Pas ouverte');
  const rows = [];
  const row = (label, value, field) => rows.push(el('dt', null, label), el('dd', field ? { 'data-field': field } : null, value));
  if (c.type === 'COM') row('Code INSEE', c.code);
  if (c.siren) row('SIREN', c.siren);
  row('Population', c.population != null ? nf.format(c.population) + ' hab.' : 'inconnue', 'population');
  if (c.band) row('Strate', BAND_LABELS[c.band] || c.band, 'band');
  row('Obligée', c.obliged ? 'oui' : 'non', 'obliged');
  row('Jeux de données', on.datasets != null ? nf.format(on.datasets) : 'inconnu', 'datasets');
  if (c.region) row('Région', selButton(c.region.id, c.region.name));
  if (c.epci) row('EPCI', selButton(c.epci.id, c.epci.name), 'epci');
  if (c.ept) row('EPT', selButton(c.ept.id, c.ept.name));
  row('ATD', c.atd && c.atd.length ? c.atd.flatMap((a, i) => [i ? ', ' : '', selButton('ATD-' + a.id, a.name)]) : 'aucun', 'atd');

  return [
    el('h2', { id: 'card-title' }, c.name),
    el('p', { class: 'kind' }, (TYPE_LABELS[c.type] || c.type) + (c.departement ? ' · ' + c.departement.name + ' (' + c.departement.code + ')' : '')),
    el('p', null, status, state.date ? el('span', { class: 'note' }, ' au ' + fmtDate(state.date)) : null),
    on.open && on.firstSeenOpen ? el('p', { id: 'first-seen', class: 'note' },
      'Observée ouverte depuis le ' + fmtDate(on.firstSeenOpen) + ' : c’est la première observation de l’observatoire qui la montre ouverte ; elle a pu ouvrir avant.') : null,
    el('dl', null, rows),
    // Whether and why it is obliged, in plain French: the server's one rule (SQL function obligation) says it,
    // thresholds included, so the page restates nothing.
    el('p', { id: 'obligation-why' }, c.obligation),
    c.members ? [el('h3', null, 'Collectivités comptées'), el('p', null,
      nf.format(c.members.open) + ' ouvertes sur ' + nf.format(c.members.count) + ' ; obligées ouvertes : ' + nf.format(c.members.obligedOpen) + ' / ' +
      nf.format(c.members.obliged) + (c.members.obliged ? ' (' + pf.format(c.members.obligedOpen / c.members.obliged) + ')' : ''))] : null,
    historyTable(c.history),
    platforms(c),
    // ATD and staff: record what they saw about this collectivité (the editor page asks for their key).
    el('p', { class: 'note' }, el('a', { id: 'contribute-link', href: '/contribuer#c=' + encodeURIComponent(c.id) }, 'Signaler une observation (ATD, équipe)')),
  ];
}

// data.gouv.fr's harvest sees one place of publication: 0 datasets there is not "not listed" (docs/status.md).
function statusText(o) {
  if (o.source.startsWith('datagouv-')) return o.open ? 'publie sur data.gouv.fr' : 'aucun jeu sur data.gouv.fr';
  return (o.open ? 'ouverte' : 'non listée') + (o.supersededBy ? ' (corrigée)' : '');
}

function historyTable(history) {
  if (!history || !history.length) return [el('h3', null, 'Historique du statut'), el('p', { class: 'note' }, 'Aucune observation enregistrée.')];
  const n = (v) => (v != null ? nf.format(v) : '—');
  return [
    el('h3', null, 'Historique du statut'),
    el('table', { id: 'history' },
      el('caption', { class: 'sr' }, 'Observations de la collectivité, de la plus ancienne à la plus récente, avec leur source ; « décide du statut » marque celle qui fait foi quand les sources divergent'),
      // data.<wbr>gouv.fr: the header may break after the dot, so the column is as narrow as its numbers.
      el('thead', null, el('tr', null, ['Date', 'Statut et source', 'Jeux locaux', ['data.', el('wbr'), 'gouv.fr']].map((h) => el('th', { scope: 'col' }, h)))),
      // The source under the status, not in a fifth column: five did not fit the card (its last column was cut).
      el('tbody', null, history.map((o) => el('tr', { class: o.supersededBy ? 'superseded' : null },
        el('td', null, fmtDate(o.date)),
        el('td', null, statusText(o), o.decides ? el('strong', { class: 'decides' }, ' · décide du statut') : null,
          el('span', { class: 'source' }, sourceLabel(o))),
        el('td', null, n(o.datasetsLocal)), el('td', null, n(o.datasetsDatagouv)))))),
  ];
}


function platforms(c) {
  const out = [];
  const last = (c.history || []).filter((o) => o.open && !o.supersededBy).pop();
  if (last && (last.platforms || last.url || last.datasetsDatagouv != null)) {
    out.push(el('h3', null, 'Jeux de données par plateforme'), el('ul', null,
      last.platforms ? el('li', null, last.platforms + (last.datasetsLocal != null ? ' : ' + nf.format(last.datasetsLocal) + ' jeux' : ''),
        last.url ? [' — ', el('a', { href: last.url, rel: 'noopener', target: '_blank' }, 'portail')] : null) : null,
      last.datasetsDatagouv != null ? el('li', null, 'data.gouv.fr : ' + nf.format(last.datasetsDatagouv) + ' jeux') : null));
  }
  if (c.platforms && c.platforms.length) {
    out.push(el('h3', null, 'Plateformes'), el('ul', null, c.platforms.map((p) => el('li', null,
      p.url ? el('a', { href: p.url, rel: 'noopener', target: '_blank' }, p.name) : p.name,
      p.mode ? el('span', { class: 'note' }, ' (plateforme ' + (PLATFORM_MODE_LABELS[p.mode] || p.mode) + ')') : null))));
  }
  return out;
}

/* ---------- ATD ---------- */
export const TO_DO_ITEMS_SHOWN = 50;

export function atdDownloads(id) {
  const q = state.date ? '&date=' + state.date : '';
  return {
    csv: '/api/reports/todo.csv?atd=' + encodeURIComponent(id) + q,
    pdf: '/api/reports/atd/' + encodeURIComponent(id) + '.pdf' + (state.date ? '?date=' + state.date : ''),
  };
}

async function atdCard(id, fly) {
  const [a, todo] = await Promise.all([
    getJson('/api/atd/' + encodeURIComponent(id) + dateQuery()),
    getJson('/api/atd/' + encodeURIComponent(id) + '/todo?limit=' + TO_DO_ITEMS_SHOWN + (state.date ? '&date=' + state.date : '')),
  ]);
  if (fly && a.bbox) hooks.fit(a.bbox, 10);
  const remaining = a.obliged - a.obligedOpen;
  const links = atdDownloads(a.id);
  const perimeter = a.perimeterType
    ? (PERIMETER_LABELS[a.perimeterType] || a.perimeterType) + ' : ' + (a.perimeterNames.length ? a.perimeterNames.join(', ') : a.perimeterCodes.join(', '))
    : 'non renseigné';
  const seasons = a.seasons.length ? a.seasons.map((s) => 'saison ' + s).join(', ') : 'aucune saison connue';
  const shareInput = el('input', { id: 'atd-share', type: 'text', readonly: true, value: location.href, 'aria-label': 'Lien vers cette fiche' });
  const copied = el('span', { class: 'note', role: 'status' });
  const copy = () => {
    shareInput.value = location.href; shareInput.select();
    const done = () => { copied.textContent = ' Lien copié.'; };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(location.href).then(done, () => { copied.textContent = ' Copiez le lien sélectionné.'; });
    else copied.textContent = ' Copiez le lien sélectionné (Ctrl+C).';
  };
  return [
    el('h2', { id: 'card-title' }, a.name),
    el('p', { class: 'kind' }, 'Animateur territorial des données · ' + (ATD_KIND_LABELS[a.kind] || a.kind) + (a.scale ? ' · ' + (ATD_SCALE_LABELS[a.scale] || a.scale) : '')),
    el('dl', null,
      el('dt', null, 'Périmètre'), el('dd', { 'data-field': 'perimeter' }, perimeter),
      el('dt', null, 'OpenDataLocale'), el('dd', { 'data-field': 'seasons' }, seasons),
      el('dt', null, 'Collectivités couvertes'), el('dd', { 'data-field': 'covered' }, nf.format(a.covered)),
      el('dt', null, 'Ouvertes'), el('dd', { 'data-field': 'open' }, nf.format(a.open)),
      el('dt', null, 'Obligées ouvertes'), el('dd', { 'data-field': 'obliged-open' },
        nf.format(a.obligedOpen) + ' / ' + nf.format(a.obliged) + (a.obligedOpenRate != null ? ' (' + pf.format(a.obligedOpenRate) + ')' : ''))),
    el('h3', null, 'Liste à faire'),
    el('p', { class: 'note', id: 'atd-todo-count' }, remaining
      ? plural(remaining, 'collectivité obligée n’est', 'collectivités obligées ne sont') + ' pas encore ouverte' + (remaining > 1 ? 's' : '') +
        (state.date ? ' au ' + fmtDate(state.date) : '') + ', les plus peuplées d’abord' + (remaining > todo.items.length ? ' (les ' + nf.format(todo.items.length) + ' premières ; toutes dans le CSV)' : '') + '.'
      : 'Toutes les collectivités obligées du périmètre sont ouvertes.'),
    el('ol', { id: 'atd-todo-list', class: 'todo' }, todo.items.map((x) => el('li', null, selButton(x.id, x.name),
      el('span', { class: 'note' }, ' ' + (TYPE_LABELS[x.type] || x.type) + (x.departementCode ? ' · ' + x.departementCode : '') +
        (x.population != null ? ' · ' + nf.format(x.population) + ' hab.' : ''))))),
    el('p', { class: 'downloads' },
      el('a', { id: 'atd-csv', class: 'button', href: links.csv, download: true }, 'Télécharger la liste (CSV)'),
      el('a', { id: 'atd-pdf', class: 'button', href: links.pdf, download: true }, 'Rapport de l’ATD (PDF)')),
    el('h3', null, 'Ce qui a changé'),
    el('p', { class: 'note' }, 'Collectivités du périmètre nouvellement ouvertes, disparues, jeux de données en hausse ou en baisse entre les deux derniers recensements (les dates se changent ensuite).'),
    el('p', null, el('button', { type: 'button', id: 'atd-changes', class: 'small', on: { click: () => hooks.changes(a.id) } }, 'Changements de mon territoire')),
    el('p', { class: 'share' }, el('label', { for: 'atd-share' }, 'Partager cette fiche'), shareInput,
      el('button', { type: 'button', class: 'small', on: { click: copy } }, 'Copier le lien'), copied),
  ];
}
