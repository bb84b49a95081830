// The view state, kept in the URL hash so that a copied link reproduces the view:
// #carte=zoom/lat/lon&ind=count&type=…&band=…&obliged=1&atd=…&date=…&sel=COM-35238&atdl=1&epci=1
// The « Changements » mode: chg=2022-04-25,2022-10-19 (the two dates compared; chg=last: the two latest
// directory snapshots, replaced by their dates once known) and chgk=new|gone|data (one kind of change only).

const DEFAULTS = { z: null, lat: null, lng: null, ind: 'rate', type: '', band: '', obliged: false, atd: '', date: '', sel: '', atdl: false, epci: false, chg: '', chgk: '' };
export const state = { ...DEFAULTS };

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const CHG = /^(last|\d{4}-\d{2}-\d{2},\d{4}-\d{2}-\d{2})$/;
export const CHANGE_KINDS = ['new', 'gone', 'data'];
// Collectivités: COM-35238, EPCI-243500139…; ATD: ATD-rennes-metropole.
const SEL = /^([A-Z]{3,5}-[0-9A-Za-z]{1,12}|ATD-[a-z0-9][a-z0-9-]{0,99})$/;

export function readHash() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ''));
  const s = { ...DEFAULTS };
  const v = (h.get('carte') || '').split('/');
  if (v.length === 3 && v.every((x) => x !== '' && isFinite(+x))) { s.z = +v[0]; s.lat = +v[1]; s.lng = +v[2]; }
  if (h.get('ind') === 'count') s.ind = 'count';
  s.type = h.get('type') || ''; s.band = h.get('band') || ''; s.atd = h.get('atd') || '';
  s.obliged = h.get('obliged') === '1'; s.atdl = h.get('atdl') === '1'; s.epci = h.get('epci') === '1';
  s.date = DATE.test(h.get('date') || '') ? h.get('date') : '';
  s.sel = SEL.test(h.get('sel') || '') ? h.get('sel') : '';
  s.chg = CHG.test(h.get('chg') || '') ? h.get('chg') : '';
  s.chgk = s.chg && CHANGE_KINDS.includes(h.get('chgk')) ? h.get('chgk') : '';
  Object.assign(state, s);
}

let writing = false;
export const isWriting = () => writing;
export function writeHash(map) {
  const c = map.getCenter();
  const h = new URLSearchParams();
  h.set('carte', map.getZoom() + '/' + c.lat.toFixed(4) + '/' + c.lng.toFixed(4));
  if (state.ind !== 'rate') h.set('ind', state.ind);
  for (const k of ['type', 'band', 'atd', 'date']) if (state[k]) h.set(k, state[k]);
  if (state.obliged) h.set('obliged', '1');
  if (state.atdl) h.set('atdl', '1');
  if (state.epci) h.set('epci', '1');
  if (state.sel) h.set('sel', state.sel);
  if (state.chg) h.set('chg', state.chg);
  if (state.chg && state.chgk) h.set('chgk', state.chgk);
  const next = '#' + h.toString().replace(/%2F/g, '/').replace(/%2C/g, ',');
  if (next !== location.hash) { writing = true; history.replaceState(null, '', next); writing = false; }
}

/** The map's filters as query parameters of /api/geo, /tiles and /api/indicators. */
export function filterQuery({ date = true } = {}) {
  const q = new URLSearchParams();
  if (state.type) q.set('type', state.type);
  if (state.band) q.set('band', state.band);
  if (state.obliged) q.set('obliged', 'true');
  if (state.atd) q.set('atd', state.atd);
  if (date && state.date) q.set('date', state.date);
  return q;
}
export const hasFilters = () => Boolean(state.type || state.band || state.obliged || state.atd);
