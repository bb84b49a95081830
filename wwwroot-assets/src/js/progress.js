// The progress panel (gauge towards the goal, curve since 2017 with the published editions and the
// projection, obliged open by band), the data's age, and the dates the date control offers.
import { $, el, svg, fill, nf, pf, fmtDate, getJson } from './dom.js';
import { state } from './state.js';
import { BANDS, isPublished } from './labels.js';

function gauge(open, goal) {
  const frac = Math.max(0, Math.min(1, open / goal)), a = Math.PI * (1 - frac);
  const x = 100 + 80 * Math.cos(a), y = 100 - 80 * Math.sin(a);
  return svg('svg', { viewBox: '0 0 200 118', role: 'img', 'aria-label': nf.format(open) + ' collectivités ouvertes sur un objectif de ' + nf.format(goal) },
    svg('path', { d: 'M20 100 A80 80 0 0 1 180 100', fill: 'none', stroke: '#e5e9ee', 'stroke-width': 18 }),
    frac > 0 ? svg('path', { d: 'M20 100 A80 80 0 0 1 ' + x.toFixed(1) + ' ' + y.toFixed(1), fill: 'none', stroke: '#0b5cad', 'stroke-width': 18 }) : null,
    svg('text', { x: 100, y: 88, 'text-anchor': 'middle', 'font-size': 26, 'font-weight': 700, fill: '#1b1f24', id: 'gauge-open' }, nf.format(open)),
    svg('text', { x: 100, y: 110, 'text-anchor': 'middle', 'font-size': 12, fill: '#4a5561' }, 'sur ' + nf.format(goal) + ' (' + pf.format(open / goal) + ')'));
}

// What the figure is and how old: "701 collectivités ouvertes (dernière observation : 19 octobre 2022)",
// and that the obliged count is an upper bound (the API's obligationNote).
function gaugeCaption(ind) {
  const age = ind.lastObservation ? ' (dernière observation : ' + fmtDate(ind.lastObservation) + ')' : '';
  return [
    el('p', { id: 'gauge-caption' }, nf.format(ind.open) + ' collectivités ouvertes' + age),
    el('p', { class: 'note', id: 'obligation-note' }, ind.obligationNote),
  ];
}

function curve(series, projection, goal) {
  const pts = series.filter((p) => p.open != null).map((p) => ({ t: Date.parse(p.date), v: p.open, published: isPublished(p.kind), date: p.date }))
    .sort((a, b) => a.t - b.t);
  if (!pts.length) return el('p', { class: 'note' }, 'Pas encore de série historique.');
  const proj = projection && projection.date && !projection.reached ? [{ t: Date.parse(projection.date), v: goal }] : [];
  const t0 = Date.parse('2017-01-01');
  let t1 = Math.max(Date.now(), pts[pts.length - 1].t), vmax = goal;
  for (const p of proj) t1 = Math.max(t1, p.t);
  for (const p of pts.concat(proj)) vmax = Math.max(vmax, p.v);
  const W = 320, H = 170, L0 = 36, R = 8, T = 10, B = 24;
  const X = (t) => L0 + ((t - t0) / (t1 - t0)) * (W - L0 - R), Y = (v) => T + (1 - v / vmax) * (H - T - B);
  const line = (ps) => ps.map((p) => X(p.t).toFixed(1) + ',' + Y(p.v).toFixed(1)).join(' ');
  const parts = [];
  for (const v of [0, 500, 1000, 1500, 2000]) {
    parts.push(svg('line', { x1: L0, x2: W - R, y1: Y(v), y2: Y(v), stroke: v === goal ? '#c2410c' : '#e5e9ee', 'stroke-dasharray': v === goal ? '4 3' : null }));
    parts.push(svg('text', { x: L0 - 4, y: Y(v) + 3, 'font-size': 10, 'text-anchor': 'end', fill: '#4a5561' }, nf.format(v)));
  }
  for (let yr = 2017; yr <= new Date(t1).getUTCFullYear(); yr += 2)
    parts.push(svg('text', { x: X(Date.parse(yr + '-01-01')), y: H - 8, 'font-size': 10, 'text-anchor': 'middle', fill: '#4a5561' }, String(yr)));
  parts.push(svg('polyline', { fill: 'none', stroke: '#0b5cad', 'stroke-width': 2, points: line(pts) }));
  if (proj.length) parts.push(svg('polyline', { fill: 'none', stroke: '#0b5cad', 'stroke-width': 1.5, 'stroke-dasharray': '4 3', points: line([pts[pts.length - 1]].concat(proj)) }));
  for (const p of pts) {
    parts.push(svg('circle', { cx: X(p.t).toFixed(1), cy: Y(p.v).toFixed(1), r: 3, fill: p.published ? '#fff' : '#0b5cad', stroke: '#0b5cad', 'stroke-width': 1.5 },
      svg('title', null, fmtDate(p.date) + ' : ' + nf.format(p.v))));
  }
  return [
    svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'Collectivités ouvertes depuis 2017' }, parts),
    el('p', { class: 'note' }, '○ éditions publiées · ● observations' + (proj.length ? ' · - - projection' : '')),
    projection && projection.label ? el('p', null, 'Projection : ' + projection.label) : null,
  ];
}

// Rows of /api/indicators?by=band ({key, values: {obliged, obligedOpen…}}), in the bands' numeric
// order; bands without any obliged collectivité are left out.
function bands(rows) {
  const byKey = Object.fromEntries(rows.map((r) => [r.key, r.values]));
  const shown = BANDS.filter(([k]) => byKey[k] && byKey[k].obliged > 0);
  if (!shown.length) return null;
  return [el('h3', null, 'Obligées ouvertes par strate'), shown.map(([k, label]) => {
    const v = byKey[k], rate = v.obligedOpen == null ? null : v.obligedOpen / v.obliged;
    const bar = el('span', { class: 'bar-fg' });
    bar.style.width = (rate == null ? 0 : Math.round(rate * 100)) + '%';
    return el('div', { class: 'bandrow' }, el('span', null, label), el('span', { class: 'bar-bg' }, bar), el('span', null, rate == null ? '—' : pf.format(rate)));
  })];
}

let series = [];

/**
 * Loads the panel for the state's date; resolves with the progress answer. `undated`: the undated
 * /api/progress answer when the caller has it (the timeline's, on the page's load: asked once, not twice).
 */
export async function loadProgress(undated = null) {
  const q = state.date ? '?date=' + state.date : '';
  const [p, ind, byBand] = await Promise.all([
    !q && undated ? undated : getJson('/api/progress' + q),
    getJson('/api/indicators' + q),
    getJson('/api/indicators?by=band' + (state.date ? '&date=' + state.date : '')).catch(() => ({ rows: [] })),
  ]);
  const goal = p.goal;
  const observed = ind.observed !== false;
  fill($('gauge'), observed ? [gauge(ind.open, goal), gaugeCaption(ind)] : noObservation());
  fill($('curve'), curve(p.series, p.projection, goal));
  fill($('bands'), bands(byBand.rows || []));
  return { observed };
}

/** The whole timeline (undated /api/progress): the data's age and the dates the date control offers; resolves with the answer. */
export async function loadTimeline() {
  const p = await getJson('/api/progress');
  series = p.series;
  dataAge(p.lastObservation, p.lastCensus);
  dateChoices();
  return p;
}

// Before the first observation: no figure (the API says null, not 0), and what the nearest
// published edition said.
function noObservation() {
  const t = Date.parse(state.date);
  const published = series.filter((s) => isPublished(s.kind) && s.open != null)
    .sort((a, b) => Math.abs(Date.parse(a.date) - t) - Math.abs(Date.parse(b.date) - t))[0];
  return el('p', { id: 'no-observation', class: 'notice' }, 'Pas d’observation à cette date.',
    published ? [el('br'), 'Édition publiée la plus proche : ' + nf.format(published.open) + ' collectivités ouvertes au ' + fmtDate(published.date) + '.'] : null);
}

// After the last complete directory snapshot, contributions update one collectivité at a time: both
// dates are said, so that a recent contribution does not pass the national picture off as recent.
function dataAge(last, census) {
  if (!last) { fill($('data-age'), 'Aucune observation chargée'); return; }
  fill($('data-age'), census && census < last
    ? 'Dernier recensement complet : ' + fmtDate(census) + ' · dernière contribution : ' + fmtDate(last)
    : 'Dernière observation : ' + fmtDate(last));
}

// The dates worth choosing: each observation, each published edition.
export function dateChoices() {
  const pick = $('date-pick');
  const current = state.date;
  fill(pick, el('option', { value: '' }, 'Dernier état connu'),
    series.slice().sort((a, b) => (a.date < b.date ? 1 : -1)).map((s) => el('option', { value: s.date },
      fmtDate(s.date) + ' — ' + (isPublished(s.kind) ? 'édition publiée' : 'observation') + (s.open != null ? ' : ' + nf.format(s.open) + ' ouvertes' : ''))));
  pick.value = series.some((s) => s.date === current) ? current : '';
}
