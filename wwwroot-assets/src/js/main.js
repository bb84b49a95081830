// Observatoire open data des territoires — the map page. Native ES modules over Leaflet 1.9 and
// Leaflet.VectorGrid (loaded before as classic scripts); every asset is served by the app itself (no
// CDN, no basemap: the choropleth is the map). The view state lives in the URL hash (state.js).
import { $, el, fill, fmtDate, todayInFrance } from './dom.js';
import { state, readHash, writeHash, isWriting, filterQuery } from './state.js';
import { map, PLACES, connect, loadAreas, syncTiles, syncAtd, syncLabels, updateLegend, updateFocusable, restyleSelection, updateDateBanner, mapFirstDrawn } from './layers.js';
import { showCard, hideCard, connectCard } from './card.js';
import { initSearch } from './search.js';
import { loadProgress, loadTimeline, dateChoices } from './progress.js';
import { initTable, loadTable } from './table.js';
import { initDirectory, loadDirectory, atdName } from './directory.js';
import { initChanges, syncChanges } from './changes.js';

const OPENING_MAX_ZOOM = 6;
const REPORT_TABLES = [['regions', 'Régions'], ['departements', 'Départements'], ['bands', 'Strates'], ['types', 'Types'], ['atd', 'ATD'], ['todo', 'À ouvrir'], ['progress', 'Progression'], ['changes', 'Changements']];

/* ---------- Selection ---------- */
let opener = null;
function select(id, fly) {
  // Where the focus was, to return there when the card closes (Escape or ×).
  if (!$('card').contains(document.activeElement)) opener = document.activeElement;
  state.sel = id;
  writeHash(map);
  restyleSelection();
  return showCard(id, fly);
}
const selectAtd = (id, fly) => select('ATD-' + id, fly);
function unselect() {
  state.sel = ''; hideCard(); writeHash(map); restyleSelection();
  const back = opener && document.contains(opener) && opener !== document.body ? opener : $('search-input');
  back.focus();
}
const fit = (b, maxZoom) => map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { maxZoom });
connect((id) => select(id, false), (id) => selectAtd(id, false));
connectCard({ select, selectAtd, fit, changes: (atd) => enterChanges({ chg: 'last', chgk: '', atd }) });

/* ---------- Downloads (national staff) ---------- */
// The reports take the date and an ATD; the type and band filters do not apply to them.
function updateDownloads() {
  const q = new URLSearchParams();
  if (state.date) q.set('date', state.date);
  if (state.atd && state.atd !== 'true' && state.atd !== 'false') q.set('atd', state.atd);
  const s = q.toString() ? '?' + q.toString() : '';
  $('dl-pdf').href = '/api/reports/national.pdf' + s;
  $('dl-xlsx').href = '/api/reports/national.xlsx' + s;
  fill($('dl-tables'), REPORT_TABLES.map(([t, label]) => el('li', null, el('a', { href: '/api/reports/' + t + '.csv' + s, download: true, dataset: { table: t } }, label + ' (CSV)'))));
  fill($('dl-scope'), 'Au ' + (state.date ? fmtDate(state.date) : 'dernier état connu') + ', France entière. Les filtres de type et de strate ne s’appliquent pas aux rapports ; le tableau des collectivités ci-dessous les suit.');
}

/* ---------- Controls ---------- */
function syncControls() {
  for (const r of document.querySelectorAll('input[name=ind]')) r.checked = r.value === state.ind;
  $('f-type').value = state.type; $('f-band').value = state.band;
  // One ATD's perimeter (from its card's « Changements de mon territoire » or a link) is a choice of its own.
  const atdPick = $('f-atd'), one = state.atd && !['true', 'false'].includes(state.atd);
  let own = atdPick.querySelector('option[data-one]');
  if (one && !own) own = atdPick.appendChild(el('option', { dataset: { one: '1' } }));
  if (one) { own.value = state.atd; own.textContent = 'Périmètre de l’ATD ' + (atdName(state.atd) || state.atd); } else if (own) own.remove();
  atdPick.value = state.atd;
  $('f-obliged').checked = state.obliged; $('layer-atd').checked = state.atdl; $('layer-epci').checked = state.epci;
  $('date').value = state.date; $('date').max = todayInFrance();
  if ($('date-pick').querySelector('option[value="' + state.date + '"]')) $('date-pick').value = state.date;
}
function refresh() {
  writeHash(map); loadAreas(); syncTiles(); syncAtd(); syncLabels(); updateLegend(); updateDownloads(); syncChanges();
}
function filtersChanged() { refresh(); loadTable(true); }
async function dateChanged() {
  // A map date leaves the « Changements » mode (which compares its own two dates).
  if (state.date && state.chg) { state.chg = ''; state.chgk = ''; }
  syncControls(); dateChoices(); refresh();
  const [{ observed }] = await Promise.all([loadProgress(), loadDirectory()]);
  updateDateBanner(state.date ? 'Carte au ' + fmtDate(state.date) + (observed ? '' : ' — pas d’observation à cette date') : '');
  if (state.sel) showCard(state.sel, false);
  loadTable();
}

/* ---------- The « Changements » mode ---------- */
// next: {chg, chgk, atd?} from the mode's controls, an ATD's card or « Disparues des radars »; null when
// changes.js only replaced chg=last with the dates the server chose (the URL is rewritten).
function enterChanges(next) {
  if (!next) { writeHash(map); return; }
  const atdChanged = next.atd !== undefined && next.atd !== state.atd;
  state.chg = next.chg; state.chgk = next.chg ? next.chgk || '' : '';
  if (next.atd !== undefined) state.atd = next.atd;
  // The mode compares its own two dates: a map date set before would only confuse the picture.
  if (next.chg && state.date) { state.date = ''; dateChanged(); } else { syncControls(); refresh(); }
  if (atdChanged) loadTable(true);
}

for (const r of document.querySelectorAll('input[name=ind]')) {
  r.addEventListener('change', () => { state.ind = r.value; writeHash(map); loadAreas(); });
}
$('f-type').addEventListener('change', (e) => { state.type = e.target.value; filtersChanged(); });
$('f-band').addEventListener('change', (e) => { state.band = e.target.value; filtersChanged(); });
$('f-atd').addEventListener('change', (e) => { state.atd = e.target.value; filtersChanged(); });
$('f-obliged').addEventListener('change', (e) => { state.obliged = e.target.checked; filtersChanged(); });
$('f-reset').addEventListener('click', () => { state.type = state.band = state.atd = ''; state.obliged = false; syncControls(); filtersChanged(); });
$('layer-atd').addEventListener('change', (e) => { state.atdl = e.target.checked; refresh(); });
$('layer-epci').addEventListener('change', (e) => { state.epci = e.target.checked; refresh(); });
$('date').addEventListener('change', (e) => { state.date = /^\d{4}-\d{2}-\d{2}$/.test(e.target.value) ? e.target.value : ''; dateChanged(); });
$('date-pick').addEventListener('change', (e) => { state.date = e.target.value; dateChanged(); });
$('date-reset').addEventListener('click', () => { state.date = ''; dateChanged(); });
$('card-close').addEventListener('click', unselect);
for (const b of document.querySelectorAll('[data-go]')) b.addEventListener('click', () => map.fitBounds(PLACES[b.dataset.go]));
// The skip link moves the focus without touching the URL (the hash holds the view).
$('skip').addEventListener('click', (e) => { e.preventDefault(); $('search-input').focus(); });
document.addEventListener('keydown', (e) => {
  // (The search box keeps its first Escape to close its list: search.js stops that one.)
  if (e.key === 'Escape' && !$('card').hidden) unselect();
});

let restoring = false;
map.on('moveend', () => { if (!restoring) refresh(); updateFocusable(); });

/* ---------- Start ---------- */
function applyHash() {
  readHash();
  syncControls();
  restoring = true;
  if (state.z != null) map.setView([state.lat, state.lng], state.z, { animate: false });
  else { map.fitBounds(PLACES.metro, { animate: false }); if (map.getZoom() > OPENING_MAX_ZOOM) map.setZoom(OPENING_MAX_ZOOM, { animate: false }); }
  restoring = false;
  refresh();
  if (state.sel) showCard(state.sel, false); else hideCard();
}
window.addEventListener('hashchange', () => { if (!isWriting()) { applyHash(); loadTable(true); } });

initSearch((r) => {
  if (r.bbox) fit(r.bbox, r.type === 'COM' ? 12 : 10);
  if (r.type === 'ATD') selectAtd(r.code, false); else select(r.id, false);
});
initTable((id) => select(id, true));
initDirectory(selectAtd);
initChanges({
  // The card opens at the top of the panel: brought into view, as the list may be scrolled far below it.
  select: (id) => select(id, true).then(() => $('card').scrollIntoView({ block: 'nearest' })),
  enter: enterChanges,
});
applyHash();
// The map first: the table sits below the fold (further down on a phone), so it is asked for once the
// first map view is drawn, instead of its rows waiting behind the map's drawing on the main thread.
mapFirstDrawn.then(() => loadTable());
// The timeline first: the "no observation" notice names the nearest published edition from it.
loadTimeline().then(loadProgress).then(({ observed }) => { if (state.date) updateDateBanner('Carte au ' + fmtDate(state.date) + (observed ? '' : ' — pas d’observation à cette date')); })
  .catch(() => fill($('gauge'), el('p', { class: 'note' }, 'Progression indisponible.')));
loadDirectory().then(syncControls).catch(() => fill($('atd-count'), 'Annuaire des ATD indisponible.'));

// For the browser tests and the curious: the map and the view state (without the position, read from the map).
window.observatoire = { map, state: () => { const s = { ...state }; delete s.z; delete s.lat; delete s.lng; return s; }, filterQuery: () => filterQuery().toString() };
