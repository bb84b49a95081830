// The map's layers: choropleth of régions / départements (GeoJSON), communes and EPCI (vector tiles),
// ATD perimeters, and the legend (in the panel, so that it never hides Corsica or an overseas région).
import { $, el, fill, nf, pf, getJson } from './dom.js';
import { state, filterQuery, hasFilters } from './state.js';
import { RAMP, NO_DATA, STATUS, CHANGE, CHANGE_BACKGROUND } from './labels.js';

/* global L */
// VectorGrid 1.3 calls L.DomEvent.fakeStop, removed in Leaflet 1.9: clicks on canvas tiles throw without it.
if (!L.DomEvent.fakeStop) L.DomEvent.fakeStop = () => true;

// Zoom levels: régions up to 6 (France fits a laptop screen at 6), départements 7–8, communes
// (vector tiles) from 9.
const DEP_FROM = 7, COMMUNES_FROM = 9;
export const levelFor = (z) => (z >= COMMUNES_FROM ? 'communes' : z >= DEP_FROM ? 'departements' : 'regions');

const mapEl = $('map');
export const map = L.map('map', { zoomControl: true, minZoom: 2, maxZoom: 15, worldCopyJump: false, keyboard: true, zoomSnap: 1 });
map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
map.attributionControl.addAttribution('Contours © <a href="https://geoservices.ign.fr/adminexpress">IGN</a> · Populations © <a href="https://www.insee.fr">INSEE</a> · Statuts © <a href="https://opendatafrance.fr">OpenDataFrance</a> (<a href="https://opendatacommons.org/licenses/odbl/">ODbL</a>)');
for (const [name, z] of [['areas', 390], ['outlines', 420], ['atd', 430], ['changes', 435], ['labels', 440]]) map.createPane(name).style.zIndex = z;
map.getPane('outlines').style.pointerEvents = 'none';
map.getPane('labels').style.pointerEvents = 'none';
map.getPane('labels').setAttribute('aria-hidden', 'true');
const svgRenderer = L.svg({ pane: 'areas', padding: 0.3 });

let onSelect = () => {};
let onAtd = () => {};
/** Wires the layers to the card: select(id) for a collectivité, selectAtd(id) for an ATD. */
export function connect(select, selectAtd) { onSelect = select; onAtd = selectAtd; }

/* ---------- Classes ---------- */
// Breaks at the quantiles of what is on the map (rounded to a whole percent or unit), so that the
// classes separate the values actually there; fewer classes when fewer distinct values.
export function classBreaks(values, n, step) {
  const v = values.filter((x) => x != null).sort((a, b) => a - b);
  if (!v.length) return [];
  const floor = (x) => Math.floor(x / step + 1e-9) * step;
  const b = [floor(v[0])];
  for (let i = 1; i < n; i++) {
    const q = floor(v[Math.floor((i * v.length) / n)]);
    if (q > b[b.length - 1] + step / 2) b.push(q);
  }
  return b;
}
const colourOf = (i, k) => RAMP[k <= 1 ? RAMP.length - 1 : Math.round((i * (RAMP.length - 1)) / (k - 1))];
let breaks = [];
function valueOf(p) { return state.ind === 'count' ? p.open || 0 : p.rate; }
function classOf(p) {
  if (state.chg) return CHANGE_BACKGROUND;
  const v = valueOf(p);
  if (v == null) return NO_DATA;
  let i = breaks.length - 1;
  while (i > 0 && v < breaks[i] - 1e-9) i--;
  return colourOf(i, breaks.length);
}

/* ---------- Areas ---------- */
let areaLayer = null, areaLevel = null, areaKey = null, outlineLayer = null, outlineKey = null, areaFeatures = [];
let firstChoropleth = null, loadSeq = 0, firstDrawn;
/** Settles once the first map view is drawn (or could not be): what the rest of the page waits for. */
export const mapFirstDrawn = new Promise((resolve) => { firstDrawn = resolve; });

function areaStyle(f) {
  const selected = f.id === state.sel;
  return { pane: 'areas', renderer: svgRenderer, className: 'obs-area obs-' + areaLevel, fillColor: classOf(f.properties), fillOpacity: 0.92,
    color: selected ? '#111' : '#ffffff', weight: selected ? 3 : 0.8, opacity: 1 };
}
function areaLabel(p) {
  const open = plural2(p.open, 'collectivité ouverte', 'collectivités ouvertes');
  const rate = p.rate == null ? 'aucune collectivité obligée' : pf.format(p.rate) + ' des obligées ouvertes (' + nf.format(p.obligedOpen) + ' / ' + nf.format(p.obliged) + ')';
  return [p.name, open + ' sur ' + nf.format(p.count), rate];
}
const plural2 = (n, one, many) => nf.format(n || 0) + ' ' + ((n || 0) > 1 ? many : one);

function restyleAreas() {
  if (!areaLayer) return;
  breaks = state.ind === 'count' ? classBreaks(areaFeatures.map((f) => f.properties.open || 0), RAMP.length, 1)
    : classBreaks(areaFeatures.map((f) => f.properties.rate), RAMP.length, 0.01);
  areaLayer.setStyle(areaStyle);
  updateInsets();
  mapEl.dataset.classes = String(new Set(areaFeatures.map((f) => classOf(f.properties))).size);
}

export function loadAreas() {
  const z = map.getZoom(), level = levelFor(z);
  mapEl.dataset.level = level;
  const fetchLevel = level === 'communes' ? null : level;
  const q = filterQuery();
  // Areas always use the simplified band (z ≤ 6): ~250 KB for the 101 départements, against ~1 MB at
  // the medium band, for a difference smaller than a pixel at zoom 7.
  q.set('zoom', '5');
  const key = fetchLevel + '?' + q.toString();
  if (fetchLevel && key === areaKey && areaLayer) { updateFocusable(); updateInsets(); updateLegend(); return Promise.resolve(); }
  const seq = ++loadSeq;
  if (!fetchLevel) {
    if (areaLayer) { map.removeLayer(areaLayer); areaLayer = null; areaKey = null; areaLevel = null; areaFeatures = []; }
    updateInsets();
    mapEl.dataset.features = '0';
    loadOutlines();
    updateLegend();
    firstDrawn();
    return Promise.resolve();
  }
  if (outlineLayer) { map.removeLayer(outlineLayer); outlineLayer = null; outlineKey = null; }
  mapEl.dataset.ready = '0';
  return getJson('/api/geo/' + fetchLevel + '?' + q.toString()).then((fc) => {
    if (seq !== loadSeq) return;
    if (areaLayer) map.removeLayer(areaLayer);
    areaLevel = fetchLevel; areaKey = key; areaFeatures = fc.features;
    areaLayer = L.geoJSON(fc, {
      style: areaStyle,
      onEachFeature: (f, layer) => {
        layer.bindTooltip(() => tooltip(areaLabel(f.properties)), { sticky: true, className: 'area-tip' });
        layer.on('click', () => onSelect(f.id));
        layer.on('add', () => {
          // A territory is a button for the keyboard: Enter or Space opens its card.
          const path = layer.getElement();
          path.setAttribute('role', 'button');
          path.setAttribute('aria-label', areaLabel(f.properties).join(', '));
          path.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onSelect(f.id); } });
        });
      },
    }).addTo(map);
    restyleAreas();
    updateFocusable();
    mapEl.dataset.features = String(fc.features.length);
    mapEl.dataset.ready = '1';
    mapEl.dataset.drawnAt = String(performance.now());
    if (firstChoropleth == null) {
      firstChoropleth = performance.now();
      performance.mark('first-choropleth');
      firstDrawn();
    }
    updateLegend();
  }).catch((e) => { firstDrawn(); showMapMessage('La carte n’a pas pu être chargée (' + e.message + ').'); });
}

function tooltip(lines) {
  return el('div', null, el('strong', null, lines[0]), lines.slice(1).map((l) => [el('br'), l]));
}

// Only the shapes one can see are in the Tab order: a territory off screen is not focusable.
export function updateFocusable() {
  if (!areaLayer) return;
  const view = map.getBounds();
  areaLayer.eachLayer((l) => {
    const path = l.getElement && l.getElement();
    if (path) path.setAttribute('tabindex', view.intersects(l.getBounds()) ? '0' : '-1');
  });
}

// At commune zooms, the départements' borders are drawn over the tiles to keep one's bearings.
function loadOutlines() {
  const oq = new URLSearchParams({ zoom: map.getZoom() >= 10 ? '7' : '5' });
  const key = oq.toString();
  if (outlineKey === key && outlineLayer) return;
  outlineKey = key;
  getJson('/api/geo/departements?' + key).then((fc) => {
    if (levelFor(map.getZoom()) !== 'communes') return;
    if (outlineLayer) map.removeLayer(outlineLayer);
    outlineLayer = L.geoJSON(fc, { pane: 'outlines', interactive: false, style: { pane: 'outlines', fill: false, color: '#24292f', weight: 1.6, opacity: 0.8 } }).addTo(map);
    mapEl.dataset.ready = '1';
  }).catch(() => { /* borders are decoration: the tiles still show */ });
}

/* ---------- Insets for the overseas régions ---------- */
// As French readers expect: each DROM in a small map in the corner, coloured like the main map, shown
// while the main map looks at metropolitan France at région or département level. A click goes there.
export const PLACES = {
  metro: [[41.3, -5.2], [51.1, 9.6]],
  971: [[15.83, -61.81], [16.52, -61.0]], 972: [[14.38, -61.23], [14.88, -60.8]], 973: [[2.1, -54.6], [5.8, -51.6]],
  974: [[-21.4, 55.2], [-20.86, 55.84]], 976: [[-13.01, 45.01], [-12.63, 45.3]],
};
const DROM = [['971', '01', 'Guadeloupe'], ['972', '02', 'Martinique'], ['973', '03', 'Guyane'], ['974', '04', 'La Réunion'], ['976', '06', 'Mayotte']];
const insets = L.control({ position: 'bottomleft' });
insets.onAdd = () => {
  const box = L.DomUtil.create('div', 'insets');
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', 'Outre-mer');
  L.DomEvent.disableClickPropagation(box);
  L.DomEvent.disableScrollPropagation(box);
  return box;
};
insets.addTo(map);
const insetMaps = [];
function updateInsets() {
  const box = insets.getContainer();
  const metro = L.latLngBounds(PLACES.metro).contains(map.getCenter());
  box.hidden = !areaLayer || !metro;
  if (box.hidden) return;
  if (!insetMaps.length) {
    for (const [dep, reg, name] of DROM) {
      const frame = el('div', { class: 'inset-map', 'aria-hidden': 'true' });
      const button = el('button', { type: 'button', class: 'inset', on: { click: () => map.fitBounds(PLACES[dep]) } },
        frame, el('span', null, name));
      box.append(button);
      const m = L.map(frame, { attributionControl: false, zoomControl: false, dragging: false, scrollWheelZoom: false, doubleClickZoom: false,
        boxZoom: false, keyboard: false, touchZoom: false, zoomSnap: 0.25 });
      m.fitBounds(PLACES[dep], { animate: false });
      insetMaps.push({ m, ids: ['REG-' + reg, 'DEP-' + dep], layer: null });
    }
  }
  for (const inset of insetMaps) {
    if (inset.layer) inset.m.removeLayer(inset.layer);
    const features = areaFeatures.filter((f) => inset.ids.includes(f.id));
    inset.layer = L.geoJSON({ type: 'FeatureCollection', features }, {
      interactive: false,
      style: (f) => ({ fillColor: classOf(f.properties), fillOpacity: 0.92, color: '#ffffff', weight: 0.8 }),
    }).addTo(inset.m);
    inset.m.invalidateSize();
  }
}

/* ---------- Communes and EPCI (vector tiles) ---------- */
let communeTiles = null, communeUrl = null, communeSel = null, epciTiles = null, hoverTip = null;
function tileUrl(layer) {
  const q = filterQuery().toString();
  return '/tiles/' + layer + '/{z}/{x}/{y}.pbf' + (q ? '?' + q : '');
}
function communeStyle(p) {
  if (state.chg) {
    const c = CHANGE[changeOf.get('COM-' + p.code)];
    return { fill: true, fillColor: c ? c.fill : CHANGE_BACKGROUND, fillOpacity: 0.95, color: c ? c.color : '#9aa3ab', weight: c ? 1.2 : 0.4, opacity: 1 };
  }
  const s = STATUS[p.status] || STATUS.other;
  return { fill: true, fillColor: s.color, fillOpacity: 0.95, color: '#5b6670', weight: 0.5, opacity: 1 };
}
export function syncTiles() {
  const z = map.getZoom();
  if (z >= COMMUNES_FROM) {
    const url = tileUrl('communes');
    if (!communeTiles) {
      communeTiles = L.vectorGrid.protobuf(url, {
        rendererFactory: L.canvas.tile, interactive: true, minZoom: COMMUNES_FROM, maxNativeZoom: 14, pane: 'overlayPane',
        vectorTileLayerStyles: { communes: communeStyle },
        getFeatureId: (f) => 'COM-' + f.properties.code,
      });
      communeTiles.on('click', (e) => { if (e.layer && e.layer.properties) onSelect('COM-' + e.layer.properties.code); });
      communeTiles.on('mouseover', (e) => {
        const p = e.layer && e.layer.properties; if (!p) return;
        hoverTip = L.tooltip({ className: 'area-tip', sticky: true }).setLatLng(e.latlng)
          .setContent(tooltip([p.name, state.chg ? (CHANGE[changeOf.get('COM-' + p.code)] || { label: 'Pas de changement' }).label
            : (STATUS[p.status] || STATUS.other).label])).openOn(map);
      });
      communeTiles.on('mouseout', () => { if (hoverTip) { map.removeLayer(hoverTip); hoverTip = null; } });
      communeTiles.on('load', restyleSelection);
      communeTiles.addTo(map);
      communeUrl = url;
    } else if (communeUrl !== url) {
      communeUrl = url;
      communeTiles.setUrl(url);
    }
  } else if (communeTiles) { map.removeLayer(communeTiles); communeTiles = null; communeSel = null; }

  const wantEpci = state.epci && z >= 6;
  if (wantEpci && !epciTiles) {
    epciTiles = L.vectorGrid.protobuf('/tiles/epci/{z}/{x}/{y}.pbf', {
      rendererFactory: L.canvas.tile, interactive: false, minZoom: 6, maxNativeZoom: 14, pane: 'outlines',
      vectorTileLayerStyles: { epci: () => ({ fill: false, color: '#6b21a8', weight: 1.4, opacity: 0.9 }) },
    }).addTo(map);
  } else if (!wantEpci && epciTiles) { map.removeLayer(epciTiles); epciTiles = null; }
}

export function restyleSelection() {
  if (areaLayer) areaLayer.setStyle(areaStyle);
  if (!communeTiles) return;
  if (communeSel) communeTiles.resetFeatureStyle(communeSel);
  communeSel = null;
  if (state.sel.startsWith('COM-')) {
    communeSel = state.sel;
    try { communeTiles.setFeatureStyle(state.sel, { fill: true, fillColor: '#fde047', fillOpacity: 0.9, color: '#111', weight: 3 }); } catch { /* not in the loaded tiles yet */ }
  }
}

/* ---------- The « Changements » mode ---------- */
// A marker at the label point of each collectivité that changed (communes, EPCI, départements, régions
// alike, at every zoom), on one canvas (a national list holds up to 10,000); at commune zooms the
// communes' shapes take the same colours. The list beside the map is the way in for the keyboard.
let changeLayer = null, changeOf = new Map();
const changeRenderer = L.canvas({ pane: 'changes', padding: 0.3 });
/** Draws the changes ([{id, name, kind: new|gone|up|down, point: [lon, lat]}]), or clears them (null). */
export function showChanges(items) {
  if (changeLayer) { map.removeLayer(changeLayer); changeLayer = null; }
  changeOf = new Map((items || []).map((c) => [c.id, c.kind]));
  if (items) {
    changeLayer = L.layerGroup();
    // In the given order: the last drawn lies on top.
    for (const c of items.filter((x) => x.point)) {
      const k = CHANGE[c.kind];
      L.circleMarker([c.point[1], c.point[0]], { renderer: changeRenderer, pane: 'changes', radius: k.radius, color: k.color,
        weight: k.hollow ? 3 : 1.2, fillColor: k.fill, fillOpacity: 1 })
        .bindTooltip(() => tooltip([c.name, k.label]), { className: 'area-tip' })
        .on('click', () => onSelect(c.id))
        .addTo(changeLayer);
    }
    changeLayer.addTo(map);
  }
  mapEl.dataset.changes = String(changeLayer ? changeLayer.getLayers().length : 0);
  if (communeTiles) communeTiles.redraw();
  restyleAreas();
  updateLegend();
}

/* ---------- Place names at commune zooms ---------- */
// Names at the communes' label points (/api/geo/labels), the most populous first; a name that would
// overlap one already written is left out. Decoration for the eye: hidden from screen readers, which
// get the same names from the tiles' tooltips, the search and the table.
let labelLayer = null, labelSeq = 0;
export function syncLabels() {
  const z = map.getZoom();
  if (z < COMMUNES_FROM) { if (labelLayer) { map.removeLayer(labelLayer); labelLayer = null; } return; }
  const b = map.getBounds(), mine = ++labelSeq;
  const q = new URLSearchParams({ zoom: String(z), bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(3)).join(',') });
  getJson('/api/geo/labels?' + q.toString()).then((rows) => {
    if (mine !== labelSeq || map.getZoom() < COMMUNES_FROM) return;
    if (labelLayer) map.removeLayer(labelLayer);
    labelLayer = L.layerGroup();
    const placed = [];
    for (const [lon, lat, name] of rows) {
      const p = map.latLngToContainerPoint([lat, lon]);
      // About 7 px per character at 12 px bold, centred on the point, 16 px high, 4 px apart.
      const w = name.length * 7 + 8, box = [p.x - w / 2, p.y - 10, p.x + w / 2, p.y + 10];
      if (placed.some((o) => box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3])) continue;
      placed.push(box);
      const text = el('span', null, name);
      L.marker([lat, lon], { pane: 'labels', interactive: false, keyboard: false,
        icon: L.divIcon({ className: 'place-label', html: text, iconSize: null }) }).addTo(labelLayer);
    }
    labelLayer.addTo(map);
    mapEl.dataset.labels = String(placed.length);
  }).catch(() => { /* names are decoration: the map still shows */ });
}

/* ---------- ATD perimeters ---------- */
let atdLayer = null, atdKey = null;
const bboxArea = (b) => (b[2] - b[0]) * (b[3] - b[1]);
export function syncAtd() {
  if (!state.atdl) { if (atdLayer) { map.removeLayer(atdLayer); atdLayer = null; atdKey = null; } return; }
  const q = filterQuery(); q.set('zoom', map.getZoom() >= 7 ? '7' : '5');
  const key = q.toString();
  if (key === atdKey) return;
  atdKey = key;
  getJson('/api/geo/atd?' + key).then((fc) => {
    if (atdLayer) map.removeLayer(atdLayer);
    if (!state.atdl) return;
    // Nested perimeters (a région's ATD holds its départements', which hold their EPCI's): the larger
    // ones are drawn first, so each smaller one lies on top and takes the click inside it.
    const sized = fc.features.map((f) => ({ f, a: bboxArea(L.geoJSON(f).getBounds().toBBoxString().split(',').map(Number)) }))
      .sort((x, y) => y.a - x.a).map((x) => x.f);
    atdLayer = L.geoJSON({ type: 'FeatureCollection', features: sized }, {
      pane: 'atd',
      style: { pane: 'atd', color: '#8c510a', weight: 2.2, dashArray: '6 4', fillColor: '#f6e8c3', fillOpacity: 0.12, className: 'obs-atd' },
      onEachFeature: (f, layer) => {
        layer.bindTooltip(() => tooltip([f.properties.name, 'ATD · ' + nf.format(f.properties.count) + ' collectivités couvertes']), { sticky: true, className: 'area-tip' });
        layer.on('click', (e) => { L.DomEvent.stopPropagation(e); onAtd(f.id); });
        layer.on('add', () => {
          const path = layer.getElement();
          path.dataset.atd = f.id;
          path.setAttribute('role', 'button');
          path.setAttribute('tabindex', '-1');
          path.setAttribute('aria-label', 'ATD ' + f.properties.name);
        });
      },
    }).addTo(map);
    mapEl.dataset.atdFeatures = String(fc.features.length);
  }).catch((e) => showMapMessage('Les périmètres des ATD n’ont pas pu être chargés (' + e.message + ').'));
}

/* ---------- Messages on the map ---------- */
let messageTimer = null;
const messageControl = L.control({ position: 'topright' });
messageControl.onAdd = () => { const d = L.DomUtil.create('div', 'datebanner'); d.hidden = true; d.setAttribute('role', 'status'); return d; };
messageControl.addTo(map);
export function showMapMessage(text) {
  const box = messageControl.getContainer();
  box.textContent = text; box.hidden = false;
  clearTimeout(messageTimer);
  messageTimer = setTimeout(updateDateBanner, 6000);
}
export function updateDateBanner(text) {
  const box = messageControl.getContainer();
  if (state.date) { box.textContent = text || box.dataset.text || ''; box.hidden = !box.textContent; } else box.hidden = true;
  if (text) box.dataset.text = text;
}

/* ---------- Legend (in the panel) ---------- */
function swatch(colour) { const i = el('i', { 'aria-hidden': 'true' }); i.style.background = colour; return i; }
function marker(k) {
  const i = el('i', { 'aria-hidden': 'true', class: 'dot' + (k.radius < 6 ? ' small' : '') });
  i.style.background = k.fill; i.style.borderColor = k.color; i.style.borderWidth = (k.hollow ? 3 : 1) + 'px';
  return i;
}
export function updateLegend() {
  const level = levelFor(map.getZoom()), box = $('legend'), rows = [];
  if (state.chg) {
    rows.push(el('h3', null, 'Changements entre les deux dates'));
    for (const k of Object.values(CHANGE)) rows.push(el('li', null, marker(k), k.label));
    rows.push(el('li', null, swatch(CHANGE_BACKGROUND), 'Pas de changement'));
  } else if (level === 'communes') {
    rows.push(el('h3', null, 'Communes'));
    for (const s of Object.values(STATUS)) rows.push(el('li', null, swatch(s.color), s.label));
  } else {
    rows.push(el('h3', null, (level === 'regions' ? 'Régions' : 'Départements') + ' — ' + (state.ind === 'rate' ? 'part des obligées ouvertes' : 'collectivités ouvertes')));
    const k = breaks.length;
    breaks.forEach((b, i) => {
      const next = breaks[i + 1];
      const label = state.ind === 'rate'
        ? (next == null ? Math.round(b * 100) + ' % et plus' : Math.round(b * 100) + ' à ' + Math.round(next * 100) + ' %')
        : (next == null ? nf.format(b) + ' et plus' : next - 1 === b ? nf.format(b) : nf.format(b) + ' à ' + nf.format(next - 1));
      rows.push(el('li', null, swatch(colourOf(i, k)), label));
    });
    if (state.ind === 'rate') rows.push(el('li', null, swatch(NO_DATA), 'aucune collectivité obligée'));
  }
  if (hasFilters()) rows.push(el('li', { class: 'note' }, 'Filtres actifs'));
  fill(box, rows[0], el('ul', null, rows.slice(1)));
}

export const firstChoroplethAt = () => firstChoropleth;
