/* Observatoire open data des territoires — the map page. Vanilla JS over Leaflet 1.9 and
 * Leaflet.VectorGrid; every asset is served by the app itself (no CDN, no basemap: the choropleth
 * is the map). The whole view state lives in the URL hash, so a copied link reproduces it. */
(function () {
  'use strict';

  // VectorGrid 1.3 calls L.DomEvent.fakeStop, removed in Leaflet 1.9: clicks on canvas tiles throw without it.
  if (!L.DomEvent.fakeStop) L.DomEvent.fakeStop = function () { return true; };

  var GOAL = 2000;
  var METRO = [[41.3, -5.2], [51.1, 9.6]];
  var PLACES = {
    metro: METRO,
    '971': [[15.83, -61.81], [16.52, -61.0]],
    '972': [[14.38, -61.23], [14.88, -60.8]],
    '973': [[2.1, -54.6], [5.8, -51.6]],
    '974': [[-21.4, 55.2], [-20.86, 55.84]],
    '976': [[-13.01, 45.01], [-12.63, 45.3]]
  };
  // Zoom levels: régions up to 6 (France fits a laptop screen at 6), départements 7–8, communes
  // (vector tiles) from 9.
  var DEP_FROM = 7, COMMUNES_FROM = 9, OPENING_MAX_ZOOM = 6;
  var TYPE_LABELS = {
    COM: 'Commune', CC: 'Communauté de communes', CA: "Communauté d'agglomération", CU: 'Communauté urbaine',
    MET: 'Métropole', EPT: 'Établissement public territorial', DEP: 'Département', REG: 'Région',
    COLOM: "Collectivité d'outre-mer", ATD: 'Animateur territorial des données'
  };
  var BAND_LABELS = {
    '<500': 'moins de 500 hab.', '500-1999': '500 à 1 999 hab.', '2000-3499': '2 000 à 3 499 hab.',
    '3500-9999': '3 500 à 9 999 hab.', '10000-19999': '10 000 à 19 999 hab.', '20000-49999': '20 000 à 49 999 hab.',
    '50000-99999': '50 000 à 99 999 hab.', '>=100000': '100 000 hab. et plus'
  };
  var STATUS = {
    open: { color: '#1a7f4b', label: 'Ouverte (publie des données)' },
    obliged: { color: '#c2410c', label: 'Obligée, pas encore ouverte' },
    other: { color: '#d5d9de', label: 'Non obligée, pas ouverte' }
  };
  // Sequential, colour-blind-safe classes (light to dark); "no obliged collectivité" is grey.
  var RAMP = ['#f1eef6', '#d0d1e6', '#a6bddb', '#74a9cf', '#2b8cbe', '#045a8d'];
  var NO_DATA = '#bcc3ca';
  var RATE_BREAKS = [0, 0.0001, 0.1, 0.25, 0.5, 0.75];
  var RATE_LABELS = ['0 %', 'moins de 10 %', '10 à 25 %', '25 à 50 %', '50 à 75 %', '75 % et plus'];
  var COUNT_BREAKS = { regions: [0, 1, 10, 25, 50, 100], departements: [0, 1, 3, 6, 12, 25] };

  var nf = new Intl.NumberFormat('fr-FR');
  var pf = new Intl.NumberFormat('fr-FR', { style: 'percent', maximumFractionDigits: 1 });
  var df = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

  var state = { z: null, lat: null, lng: null, ind: 'rate', type: '', band: '', obliged: false, atd: '', date: '', sel: '', atdl: false, epci: false };
  var $ = function (id) { return document.getElementById(id); };
  var mapEl = $('map');

  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function fmtDate(iso) { return iso ? df.format(new Date(iso + 'T00:00:00Z')) : ''; }

  /* ---------- URL state ---------- */
  function readHash() {
    var h = new URLSearchParams(location.hash.replace(/^#/, ''));
    var s = Object.assign({}, state, { z: null, lat: null, lng: null, ind: 'rate', type: '', band: '', obliged: false, atd: '', date: '', sel: '', atdl: false, epci: false });
    var v = (h.get('carte') || '').split('/');
    if (v.length === 3 && v.every(function (x) { return x !== '' && isFinite(+x); })) { s.z = +v[0]; s.lat = +v[1]; s.lng = +v[2]; }
    if (h.get('ind') === 'count') s.ind = 'count';
    s.type = h.get('type') || ''; s.band = h.get('band') || ''; s.atd = h.get('atd') || '';
    s.obliged = h.get('obliged') === '1'; s.atdl = h.get('atdl') === '1'; s.epci = h.get('epci') === '1';
    s.date = /^\d{4}-\d{2}-\d{2}$/.test(h.get('date') || '') ? h.get('date') : '';
    s.sel = /^[A-Z]{3,5}-[0-9A-Za-z]{1,12}$/.test(h.get('sel') || '') ? h.get('sel') : '';
    return s;
  }
  var writing = false;
  function writeHash() {
    var c = map.getCenter();
    var h = new URLSearchParams();
    h.set('carte', map.getZoom() + '/' + c.lat.toFixed(4) + '/' + c.lng.toFixed(4));
    if (state.ind !== 'rate') h.set('ind', state.ind);
    if (state.type) h.set('type', state.type);
    if (state.band) h.set('band', state.band);
    if (state.obliged) h.set('obliged', '1');
    if (state.atd) h.set('atd', state.atd);
    if (state.date) h.set('date', state.date);
    if (state.atdl) h.set('atdl', '1');
    if (state.epci) h.set('epci', '1');
    if (state.sel) h.set('sel', state.sel);
    var next = '#' + h.toString().replace(/%2F/g, '/').replace(/%2C/g, ',');
    if (next !== location.hash) { writing = true; history.replaceState(null, '', next); writing = false; }
  }

  /* ---------- Queries ---------- */
  function filterQuery() {
    var q = new URLSearchParams();
    if (state.type) q.set('type', state.type);
    if (state.band) q.set('band', state.band);
    if (state.obliged) q.set('obliged', 'true');
    if (state.atd) q.set('atd', state.atd);
    if (state.date) q.set('date', state.date);
    return q;
  }
  function getJson(url) {
    return fetch(url, { headers: { Accept: 'application/json' } }).then(function (r) {
      if (!r.ok) { var e = new Error('HTTP ' + r.status); e.status = r.status; throw e; }
      return r.json();
    });
  }

  /* ---------- Map ---------- */
  var map = L.map('map', { zoomControl: true, minZoom: 2, maxZoom: 15, worldCopyJump: false, keyboard: true, zoomSnap: 1 });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  map.attributionControl.addAttribution('Contours © <a href="https://geoservices.ign.fr/adminexpress">IGN</a> · Populations © <a href="https://www.insee.fr">INSEE</a> · Statuts © <a href="https://opendatafrance.fr">OpenDataFrance</a> (<a href="https://opendatacommons.org/licenses/odbl/">ODbL</a>)');
  map.createPane('areas'); map.getPane('areas').style.zIndex = 390;
  map.createPane('outlines'); map.getPane('outlines').style.zIndex = 420; map.getPane('outlines').style.pointerEvents = 'none';
  map.createPane('atd'); map.getPane('atd').style.zIndex = 430;
  var svg = L.svg({ pane: 'areas', padding: 0.3 });

  var areaLayer = null, areaLevel = null, areaKey = null, outlineLayer = null, outlineKey = null;
  var communeTiles = null, epciTiles = null, atdLayer = null, atdKey = null;
  var firstChoropleth = null, loadSeq = 0;

  function levelFor(z) { return z >= COMMUNES_FROM ? 'communes' : z >= DEP_FROM ? 'departements' : 'regions'; }

  function classOf(p, level) {
    if (state.ind === 'count') {
      var b = COUNT_BREAKS[level] || COUNT_BREAKS.departements, v = p.open || 0, i = b.length - 1;
      while (i > 0 && v < b[i]) i--;
      return RAMP[i];
    }
    if (p.rate == null) return NO_DATA;
    var j = RATE_BREAKS.length - 1;
    while (j > 0 && p.rate < RATE_BREAKS[j]) j--;
    return RAMP[j];
  }
  function areaStyle(level) {
    return function (f) {
      var selected = f.id === state.sel;
      return { pane: 'areas', renderer: svg, className: 'obs-area obs-' + level, fillColor: classOf(f.properties, level), fillOpacity: 0.92,
               color: selected ? '#111' : '#ffffff', weight: selected ? 3 : 0.8, opacity: 1 };
    };
  }
  function indicatorText(p) {
    var rate = p.rate == null ? 'aucune collectivité obligée' : pf.format(p.rate) + ' des obligées ouvertes (' + nf.format(p.obligedOpen) + ' / ' + nf.format(p.obliged) + ')';
    return '<strong>' + esc(p.name) + '</strong><br>' + nf.format(p.open) + ' collectivité' + (p.open > 1 ? 's' : '') + ' ouverte' + (p.open > 1 ? 's' : '') +
      ' sur ' + nf.format(p.count) + '<br>' + rate;
  }

  function loadAreas() {
    var z = map.getZoom(), level = levelFor(z);
    mapEl.dataset.level = level;
    var fetchLevel = level === 'communes' ? null : level;
    var q = filterQuery();
    // Two geometry bands are enough for areas: simplified (z ≤ 6) and medium (z ≥ 7).
    // Areas always use the simplified band (z ≤ 6): ~250 KB for the 101 départements, against ~1 MB at
    // the medium band, for a difference smaller than a pixel at zoom 7.
    q.set('zoom', '5');
    var key = fetchLevel + '?' + q.toString();
    if (fetchLevel && key === areaKey && areaLayer) { updateLegend(); return; }
    var seq = ++loadSeq;
    if (!fetchLevel) {
      if (areaLayer) { map.removeLayer(areaLayer); areaLayer = null; areaKey = null; areaLevel = null; }
      mapEl.dataset.features = '0';
      loadOutlines();
      updateLegend();
      return;
    }
    if (outlineLayer) { map.removeLayer(outlineLayer); outlineLayer = null; outlineKey = null; }
    mapEl.dataset.ready = '0';
    getJson('/api/geo/' + fetchLevel + '?' + q.toString()).then(function (fc) {
      if (seq !== loadSeq) return;
      if (areaLayer) map.removeLayer(areaLayer);
      areaLevel = fetchLevel; areaKey = key;
      areaLayer = L.geoJSON(fc, {
        style: areaStyle(fetchLevel),
        onEachFeature: function (f, layer) {
          layer.bindTooltip(function () { return indicatorText(f.properties); }, { sticky: true, className: 'area-tip' });
          layer.on('click', function () { select(f.id, false); });
        }
      }).addTo(map);
      mapEl.dataset.features = String(fc.features.length);
      mapEl.dataset.ready = '1';
      if (firstChoropleth == null) {
        firstChoropleth = performance.now();
        mapEl.dataset.firstChoroplethMs = String(Math.round(firstChoropleth));
        performance.mark('first-choropleth');
      }
      updateLegend();
    }).catch(function (e) { showMapMessage('La carte n’a pas pu être chargée (' + e.message + ').'); });
  }

  // At commune zooms, the départements' borders are drawn over the tiles to keep one's bearings.
  function loadOutlines() {
    var oq = new URLSearchParams(); oq.set('zoom', map.getZoom() >= 10 ? '7' : '5');
    var key = oq.toString();
    if (outlineKey === key && outlineLayer) return;
    outlineKey = key;
    getJson('/api/geo/departements?' + key).then(function (fc) {
      if (levelFor(map.getZoom()) !== 'communes') return;
      if (outlineLayer) map.removeLayer(outlineLayer);
      outlineLayer = L.geoJSON(fc, { pane: 'outlines', interactive: false, style: { pane: 'outlines', fill: false, color: '#24292f', weight: 1.6, opacity: 0.8 } }).addTo(map);
      mapEl.dataset.ready = '1';
    }).catch(function () { /* borders are decoration: the tiles still show */ });
  }

  function tileUrl(layer) {
    var q = filterQuery().toString();
    return '/tiles/' + layer + '/{z}/{x}/{y}.pbf' + (q ? '?' + q : '');
  }
  function communeStyle(p) {
    var s = STATUS[p.status] || STATUS.other;
    return { fill: true, fillColor: s.color, fillOpacity: 0.9, color: '#ffffff', weight: 0.6, opacity: 1 };
  }
  function syncTiles() {
    var z = map.getZoom();
    var wantCommunes = z >= COMMUNES_FROM;
    if (wantCommunes) {
      if (!communeTiles) {
        communeTiles = L.vectorGrid.protobuf(tileUrl('communes'), {
          rendererFactory: L.canvas.tile, interactive: true, minZoom: COMMUNES_FROM, maxNativeZoom: 14, pane: 'overlayPane',
          vectorTileLayerStyles: { communes: communeStyle },
          getFeatureId: function (f) { return 'COM-' + f.properties.code; }
        });
        communeTiles.on('click', function (e) { if (e.layer && e.layer.properties) select('COM-' + e.layer.properties.code, false); });
        communeTiles.on('mouseover', function (e) {
          var p = e.layer && e.layer.properties; if (!p) return;
          L.tooltip({ className: 'area-tip', sticky: true }).setLatLng(e.latlng)
            .setContent('<strong>' + esc(p.name) + '</strong><br>' + esc((STATUS[p.status] || STATUS.other).label)).openOn(map);
        });
        communeTiles.on('mouseout', function () { map.eachLayer(function (l) { if (l instanceof L.Tooltip) map.removeLayer(l); }); });
        communeTiles.addTo(map);
        communeTiles._obsUrl = tileUrl('communes');
      } else if (communeTiles._obsUrl !== tileUrl('communes')) {
        communeTiles._obsUrl = tileUrl('communes');
        communeTiles.setUrl(communeTiles._obsUrl);
      }
    } else if (communeTiles) { map.removeLayer(communeTiles); communeTiles = null; }

    var wantEpci = state.epci && z >= 6;
    if (wantEpci && !epciTiles) {
      epciTiles = L.vectorGrid.protobuf('/tiles/epci/{z}/{x}/{y}.pbf', {
        rendererFactory: L.canvas.tile, interactive: false, minZoom: 6, maxNativeZoom: 14, pane: 'outlines',
        vectorTileLayerStyles: { epci: function () { return { fill: false, color: '#6b21a8', weight: 1.4, opacity: 0.9 }; } }
      }).addTo(map);
    } else if (!wantEpci && epciTiles) { map.removeLayer(epciTiles); epciTiles = null; }
  }

  function syncAtd() {
    if (!state.atdl) { if (atdLayer) { map.removeLayer(atdLayer); atdLayer = null; atdKey = null; } return; }
    var q = filterQuery(); q.set('zoom', map.getZoom() >= 7 ? '7' : '5');
    var key = q.toString();
    if (key === atdKey) return;
    atdKey = key;
    getJson('/api/geo/atd?' + key).then(function (fc) {
      if (atdLayer) map.removeLayer(atdLayer);
      if (!state.atdl) return;
      atdLayer = L.geoJSON(fc, {
        pane: 'atd',
        style: { pane: 'atd', color: '#b45309', weight: 2.2, dashArray: '6 4', fillColor: '#f59e0b', fillOpacity: 0.08, className: 'obs-atd' },
        onEachFeature: function (f, layer) {
          layer.on('click', function (e) { L.DomEvent.stopPropagation(e); showAtd(f.properties, e.latlng); });
        }
      }).addTo(map);
      if (!fc.features.length) showMapMessage('Aucun périmètre d’ATD n’est encore chargé.');
    }).catch(function (e) { showMapMessage('Les périmètres des ATD n’ont pas pu être chargés (' + e.message + ').'); });
  }

  function showAtd(p, latlng) {
    var rate = p.rate == null ? '—' : pf.format(p.rate);
    var html = '<strong>' + esc(p.name) + '</strong><br>' + esc(TYPE_LABELS.ATD) + (p.scale ? ' · ' + esc(p.scale) : '') +
      '<br>' + nf.format(p.count) + ' collectivités couvertes, ' + nf.format(p.open) + ' ouvertes<br>Obligées ouvertes : ' +
      nf.format(p.obligedOpen) + ' / ' + nf.format(p.obliged) + ' (' + rate + ')<br><button type="button" class="small" id="atd-todo-btn">Liste à faire</button>';
    L.popup().setLatLng(latlng).setContent(html).openOn(map);
    var btn = $('atd-todo-btn');
    if (btn) btn.addEventListener('click', function () { loadTodo(p); });
  }

  // The to-do list of an ATD: obliged collectivités of its perimeter that are not open yet, largest first.
  function loadTodo(p) {
    var box = $('atd-todo');
    box.hidden = false;
    box.innerHTML = '<h2>À faire — ' + esc(p.name) + '</h2><p class="note">Chargement…</p>';
    getJson('/api/atd/' + encodeURIComponent(p.id) + '/todo').then(function (d) {
      var items = Array.isArray(d) ? d : (d.items || d.todo || d.collectivites || d.results || []);
      var rows = items.slice(0, 200).map(function (x) {
        var name = x.name || x.Name || x.nom || '', pop = x.population != null ? x.population : x.Population;
        var id = x.id || x.collectiviteId || x.Id || '';
        return '<li>' + (id ? '<button type="button" class="link" data-sel="' + esc(id) + '">' + esc(name) + '</button>' : esc(name)) +
          (pop != null ? ' <span class="note">(' + nf.format(pop) + ' hab.)</span>' : '') + '</li>';
      });
      box.innerHTML = '<h2>À faire — ' + esc(p.name) + '</h2><p class="note">' + nf.format(items.length) +
        ' collectivité(s) obligée(s) pas encore ouverte(s), les plus peuplées d’abord.</p><div class="todo"><ol>' + rows.join('') + '</ol></div>';
    }).catch(function (e) {
      box.innerHTML = '<h2>À faire — ' + esc(p.name) + '</h2><p class="note">' + (e.status === 404
        ? 'La liste à faire de cet ATD n’est pas disponible sur ce serveur.' : 'La liste n’a pas pu être chargée (' + esc(e.message) + ').') + '</p>';
    });
    box.scrollIntoView({ block: 'nearest' });
  }

  var messageTimer = null;
  var messageControl = L.control({ position: 'topright' });
  messageControl.onAdd = function () { var d = L.DomUtil.create('div', 'datebanner'); d.hidden = true; d.setAttribute('role', 'status'); return d; };
  messageControl.addTo(map);
  function showMapMessage(text) {
    var el = messageControl.getContainer();
    el.textContent = text; el.hidden = false;
    clearTimeout(messageTimer);
    messageTimer = setTimeout(function () { updateDateBanner(); }, 6000);
  }
  function updateDateBanner() {
    var el = messageControl.getContainer();
    if (state.date) { el.textContent = 'Carte au ' + fmtDate(state.date); el.hidden = false; } else { el.hidden = true; }
  }

  /* ---------- Legend ---------- */
  var legend = L.control({ position: 'bottomright' });
  legend.onAdd = function () { var d = L.DomUtil.create('div', 'legend'); d.id = 'legend'; return d; };
  legend.addTo(map);
  function updateLegend() {
    var level = levelFor(map.getZoom()), el = $('legend'), rows = [];
    if (level === 'communes') {
      rows.push('<h3>Communes</h3>');
      Object.keys(STATUS).forEach(function (k) { rows.push('<div><i style="background:' + STATUS[k].color + '"></i>' + esc(STATUS[k].label) + '</div>'); });
    } else {
      var title = (level === 'regions' ? 'Régions' : 'Départements') + ' — ' + (state.ind === 'rate' ? 'obligées ouvertes' : 'collectivités ouvertes');
      rows.push('<h3>' + esc(title) + '</h3>');
      if (state.ind === 'rate') {
        RAMP.forEach(function (c, i) { rows.push('<div><i style="background:' + c + '"></i>' + RATE_LABELS[i] + '</div>'); });
        rows.push('<div><i style="background:' + NO_DATA + '"></i>aucune obligée</div>');
      } else {
        var b = COUNT_BREAKS[level];
        RAMP.forEach(function (c, i) {
          var lab = i === 0 ? 'aucune' : (i === b.length - 1 ? b[i] + ' et plus' : b[i] + ' à ' + (b[i + 1] - 1));
          rows.push('<div><i style="background:' + c + '"></i>' + lab + '</div>');
        });
      }
    }
    if (state.type || state.band || state.obliged || state.atd) rows.push('<div class="note">Filtres actifs</div>');
    el.innerHTML = rows.join('');
  }

  /* ---------- Selection card ---------- */
  function select(id, fly) {
    state.sel = id;
    writeHash();
    restyleSelection();
    var card = $('card'), body = $('card-body');
    card.hidden = false;
    body.innerHTML = '<p class="note">Chargement…</p>';
    getJson('/api/collectivites/' + encodeURIComponent(id)).then(function (c) {
      if (state.sel !== id) return;
      body.innerHTML = renderCard(c);
      body.querySelectorAll('[data-sel]').forEach(function (b) { b.addEventListener('click', function () { select(b.dataset.sel, true); }); });
      if (fly && c.bbox) {
        map.flyToBounds([[c.bbox[1], c.bbox[0]], [c.bbox[3], c.bbox[2]]], { maxZoom: c.type === 'COM' ? 12 : 10, duration: 0.8 });
      }
      if (window.matchMedia('(max-width: 760px)').matches) card.scrollIntoView({ behavior: 'smooth', block: 'start' });
    }).catch(function (e) {
      body.innerHTML = '<p class="note">' + (e.status === 404 ? 'Collectivité inconnue.' : 'La fiche n’a pas pu être chargée (' + esc(e.message) + ').') + '</p>';
    });
  }
  function unselect() {
    state.sel = ''; $('card').hidden = true; writeHash(); restyleSelection();
  }
  function restyleSelection() {
    if (areaLayer) areaLayer.setStyle(areaStyle(areaLevel));
    if (communeTiles) {
      if (communeTiles._obsSel) communeTiles.resetFeatureStyle(communeTiles._obsSel);
      communeTiles._obsSel = null;
      if (state.sel && state.sel.indexOf('COM-') === 0) {
        communeTiles._obsSel = state.sel;
        try { communeTiles.setFeatureStyle(state.sel, { fill: true, fillColor: '#fde047', fillOpacity: 0.9, color: '#111', weight: 3 }); } catch (e) { /* not in the loaded tiles yet */ }
      }
    }
  }

  function renderCard(c) {
    var status = c.open ? '<span class="badge open">Ouverte</span>' + (c.firstSeenOpen ? ' <span class="note">depuis le ' + fmtDate(c.firstSeenOpen) + '</span>' : '')
      : c.obliged ? '<span class="badge obliged">Obligée, pas encore ouverte</span>' : '<span class="badge other">Pas ouverte</span>';
    var h = [];
    h.push('<h2 id="card-title">' + esc(c.name) + '</h2>');
    h.push('<p class="kind">' + esc(TYPE_LABELS[c.type] || c.type) + (c.departement ? ' · ' + esc(c.departement.name) + ' (' + esc(c.departement.code) + ')' : '') + '</p>');
    h.push('<p>' + status + '</p><dl>');
    if (c.type === 'COM') h.push('<dt>Code INSEE</dt><dd>' + esc(c.code) + '</dd>');
    if (c.siren) h.push('<dt>SIREN</dt><dd>' + esc(c.siren) + '</dd>');
    h.push('<dt>Population</dt><dd data-field="population">' + (c.population != null ? nf.format(c.population) + ' hab.' : 'inconnue') + '</dd>');
    if (c.band) h.push('<dt>Strate</dt><dd data-field="band">' + esc(BAND_LABELS[c.band] || c.band) + '</dd>');
    h.push('<dt>Obligée</dt><dd data-field="obliged">' + (c.obliged ? 'oui' : 'non') + (c.obliged && c.staff == null ? ' <span class="note">(effectif inconnu)</span>' : '') + '</dd>');
    h.push('<dt>Jeux de données</dt><dd data-field="datasets">' + (c.datasets != null ? nf.format(c.datasets) : 'inconnu') + '</dd>');
    if (c.region) h.push('<dt>Région</dt><dd><button type="button" class="link" data-sel="' + esc(c.region.id) + '">' + esc(c.region.name) + '</button></dd>');
    if (c.epci) h.push('<dt>EPCI</dt><dd data-field="epci"><button type="button" class="link" data-sel="' + esc(c.epci.id) + '">' + esc(c.epci.name) + '</button></dd>');
    if (c.ept) h.push('<dt>EPT</dt><dd><button type="button" class="link" data-sel="' + esc(c.ept.id) + '">' + esc(c.ept.name) + '</button></dd>');
    h.push('<dt>ATD</dt><dd data-field="atd">' + (c.atd && c.atd.length ? c.atd.map(function (a) { return esc(a.name); }).join(', ') : 'aucun') + '</dd>');
    h.push('</dl>');
    if (c.members) {
      var m = c.members;
      h.push('<h3>Collectivités comptées</h3><p>' + nf.format(m.open) + ' ouvertes sur ' + nf.format(m.count) + ' ; obligées ouvertes : ' +
        nf.format(m.obligedOpen) + ' / ' + nf.format(m.obliged) + (m.obliged ? ' (' + pf.format(m.obligedOpen / m.obliged) + ')' : '') + '</p>');
    }
    h.push('<h3>Historique du statut</h3>');
    if (c.history && c.history.length) {
      h.push('<table><thead><tr><th>Date</th><th>Statut</th><th>Jeux locaux</th><th>data.gouv.fr</th></tr></thead><tbody>');
      c.history.forEach(function (o) {
        h.push('<tr><td>' + fmtDate(o.date) + '</td><td>' + (o.open ? 'ouverte' : 'non listée') + '</td><td>' + (o.datasetsLocal != null ? nf.format(o.datasetsLocal) : '—') +
          '</td><td>' + (o.datasetsDatagouv != null ? nf.format(o.datasetsDatagouv) : '—') + '</td></tr>');
      });
      h.push('</tbody></table>');
      var last = c.history.filter(function (o) { return o.open; }).pop();
      if (last && (last.platforms || last.url)) {
        h.push('<h3>Jeux de données par plateforme</h3><ul>');
        if (last.platforms) h.push('<li>' + esc(last.platforms) + (last.datasetsLocal != null ? ' : ' + nf.format(last.datasetsLocal) + ' jeux' : '') +
          (last.url ? ' — <a href="' + esc(last.url) + '" rel="noopener" target="_blank">portail</a>' : '') + '</li>');
        if (last.datasetsDatagouv != null) h.push('<li>data.gouv.fr : ' + nf.format(last.datasetsDatagouv) + ' jeux</li>');
        h.push('</ul>');
      }
    } else {
      h.push('<p class="note">Aucune observation enregistrée.</p>');
    }
    if (c.platforms && c.platforms.length) {
      h.push('<h3>Plateformes</h3><ul>');
      c.platforms.forEach(function (p) {
        h.push('<li>' + (p.url ? '<a href="' + esc(p.url) + '" rel="noopener" target="_blank">' + esc(p.name) + '</a>' : esc(p.name)) +
          (p.mode ? ' <span class="note">(' + esc(p.mode) + ')</span>' : '') + '</li>');
      });
      h.push('</ul>');
    }
    return h.join('');
  }

  /* ---------- Search ---------- */
  var input = $('search-input'), list = $('search-results'), searchTimer = null, results = [], active = -1, searchSeq = 0;
  function closeList() { list.hidden = true; input.setAttribute('aria-expanded', 'false'); input.removeAttribute('aria-activedescendant'); active = -1; }
  function renderList() {
    if (!results.length) { list.innerHTML = '<li class="empty" role="option" aria-disabled="true">Aucune collectivité trouvée</li>'; }
    else {
      list.innerHTML = results.map(function (r, i) {
        return '<li role="option" id="sr-' + i + '" aria-selected="' + (i === active) + '" data-i="' + i + '">' + esc(r.name) +
          '<br><span class="meta">' + esc(TYPE_LABELS[r.type] || r.type) + (r.departement ? ' · ' + esc(r.departementName || r.departement) : '') +
          (r.type === 'COM' ? ' · ' + esc(r.code) : '') + '</span></li>';
      }).join('');
    }
    list.hidden = false; input.setAttribute('aria-expanded', 'true');
    if (active >= 0) input.setAttribute('aria-activedescendant', 'sr-' + active);
  }
  function choose(r) {
    closeList();
    input.value = r.name;
    if (r.bbox) map.fitBounds([[r.bbox[1], r.bbox[0]], [r.bbox[3], r.bbox[2]]], { maxZoom: r.type === 'COM' ? 12 : 10 });
    select(r.id, false);
  }
  var resultsFor = null;
  function runSearch(q) {
    var seq = ++searchSeq;
    return getJson('/api/search?q=' + encodeURIComponent(q)).then(function (d) {
      if (seq !== searchSeq) return false;
      results = d.results || []; resultsFor = q; active = results.length ? 0 : -1; renderList();
      return true;
    }).catch(function () { results = []; resultsFor = q; renderList(); return true; });
  }
  input.addEventListener('input', function () {
    clearTimeout(searchTimer);
    var q = input.value.trim();
    if (!q) { closeList(); return; }
    searchTimer = setTimeout(function () { runSearch(q); }, 180);
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!results.length) return;
      e.preventDefault();
      active = (active + (e.key === 'ArrowDown' ? 1 : -1) + results.length) % results.length; renderList();
    } else if (e.key === 'Escape') { closeList(); }
  });
  $('search').addEventListener('submit', function (e) {
    e.preventDefault();
    // Enter before the list caught up with the typing: search what is typed now, take the best.
    var q = input.value.trim();
    if (q && q !== resultsFor) {
      clearTimeout(searchTimer);
      runSearch(q).then(function (current) { if (current && results.length) choose(results[0]); });
    } else if (results.length) choose(results[Math.max(active, 0)]);
  });
  list.addEventListener('click', function (e) {
    var li = e.target.closest('li[data-i]'); if (li) choose(results[+li.dataset.i]);
  });
  document.addEventListener('click', function (e) { if (!e.target.closest('#search')) closeList(); });

  /* ---------- Progress panel ---------- */
  function gaugeSvg(open, goal) {
    var frac = Math.max(0, Math.min(1, open / goal)), a = Math.PI * (1 - frac);
    var x = 100 + 80 * Math.cos(a), y = 100 - 80 * Math.sin(a);
    return '<svg viewBox="0 0 200 118" role="img" aria-label="' + nf.format(open) + ' collectivités ouvertes sur un objectif de ' + nf.format(goal) + '">' +
      '<path d="M20 100 A80 80 0 0 1 180 100" fill="none" stroke="#e5e9ee" stroke-width="18"/>' +
      (frac > 0 ? '<path d="M20 100 A80 80 0 0 1 ' + x.toFixed(1) + ' ' + y.toFixed(1) + '" fill="none" stroke="#0b5cad" stroke-width="18"/>' : '') +
      '<text x="100" y="88" text-anchor="middle" font-size="26" font-weight="700" fill="#1b1f24" id="gauge-open">' + nf.format(open) + '</text>' +
      '<text x="100" y="110" text-anchor="middle" font-size="11" fill="#4a5561">sur ' + nf.format(goal) + ' (' + pf.format(open / goal) + ')</text></svg>';
  }
  function curveSvg(series, projection, goal) {
    var pts = (series || []).filter(function (p) { return p && p.date && p.open != null; })
      .map(function (p) { return { t: Date.parse(p.date), v: +p.open, milestone: p.kind === 'jalon' || p.kind === 'milestone' }; })
      .sort(function (a, b) { return a.t - b.t; });
    if (!pts.length) return '<p class="note">Pas encore de série historique.</p>';
    var proj = [];
    // The projection reaches the goal on projection.date (when there is one and it is not reached yet).
    if (projection && projection.date && !projection.reached) proj = [{ t: Date.parse(projection.date), v: goal }];
    var t0 = Date.parse('2017-01-01'), t1 = Math.max(Date.now(), pts[pts.length - 1].t);
    proj.forEach(function (p) { t1 = Math.max(t1, p.t); });
    var W = 320, H = 170, L0 = 36, R = 8, T = 10, B = 24, vmax = goal;
    pts.concat(proj).forEach(function (p) { vmax = Math.max(vmax, p.v); });
    var X = function (t) { return L0 + (t - t0) / (t1 - t0) * (W - L0 - R); }, Y = function (v) { return T + (1 - v / vmax) * (H - T - B); };
    var s = ['<svg viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="Collectivités ouvertes depuis 2017">'];
    [0, 500, 1000, 1500, 2000].forEach(function (v) {
      s.push('<line x1="' + L0 + '" x2="' + (W - R) + '" y1="' + Y(v) + '" y2="' + Y(v) + '" stroke="' + (v === goal ? '#c2410c' : '#e5e9ee') + '"' + (v === goal ? ' stroke-dasharray="4 3"' : '') + '/>');
      s.push('<text x="' + (L0 - 4) + '" y="' + (Y(v) + 3) + '" font-size="9" text-anchor="end" fill="#4a5561">' + nf.format(v) + '</text>');
    });
    for (var yr = 2017; yr <= new Date(t1).getUTCFullYear(); yr += 2) {
      var tx = X(Date.parse(yr + '-01-01'));
      s.push('<text x="' + tx + '" y="' + (H - 8) + '" font-size="9" text-anchor="middle" fill="#4a5561">' + yr + '</text>');
    }
    s.push('<polyline fill="none" stroke="#0b5cad" stroke-width="2" points="' + pts.map(function (p) { return X(p.t).toFixed(1) + ',' + Y(p.v).toFixed(1); }).join(' ') + '"/>');
    if (proj.length) {
      var last = pts[pts.length - 1];
      s.push('<polyline fill="none" stroke="#0b5cad" stroke-width="1.5" stroke-dasharray="4 3" points="' + [last].concat(proj).map(function (p) { return X(p.t).toFixed(1) + ',' + Y(p.v).toFixed(1); }).join(' ') + '"/>');
    }
    pts.forEach(function (p) {
      s.push('<circle cx="' + X(p.t).toFixed(1) + '" cy="' + Y(p.v).toFixed(1) + '" r="3" fill="' + (p.milestone ? '#fff' : '#0b5cad') + '" stroke="#0b5cad" stroke-width="1.5"><title>' +
        esc(fmtDate(new Date(p.t).toISOString().slice(0, 10))) + ' : ' + nf.format(p.v) + '</title></circle>');
    });
    s.push('</svg>');
    var legendHtml = '<p class="note">○ comptes publiés (jalons) · ● observations' + (proj.length ? ' · - - projection' : '') + '</p>';
    var projText = projection && projection.label ? 'Projection : ' + projection.label : '';
    return s.join('') + legendHtml + (projText ? '<p>' + esc(projText) + '</p>' : '');
  }
  // Rows of /api/indicators?by=band: {key, label, values: {obliged, obligedOpen, …}}; bands without any
  // obliged collectivité (below 3,500 inhabitants) are left out.
  function bandsHtml(rows) {
    rows = (rows || []).map(function (r) { var v = r.values || r; return { band: r.key || r.band, obliged: v.obliged || 0, obligedOpen: v.obligedOpen || 0 }; })
      .filter(function (r) { return r.obliged > 0; });
    if (!rows.length) return '';
    var h = ['<h3>Obligées ouvertes par strate</h3>'];
    rows.forEach(function (r) {
      var rate = r.obligedOpen / r.obliged;
      h.push('<div class="bandrow"><span>' + esc(BAND_LABELS[r.band] || r.band) + '</span><span class="bar-bg"><span class="bar-fg" style="display:block;width:' +
        (rate == null ? 0 : Math.round(rate * 100)) + '%"></span></span><span>' + (rate == null ? '—' : pf.format(rate)) + '</span></div>');
    });
    return h.join('');
  }
  function loadProgress() {
    var q = state.date ? '?date=' + state.date : '';
    getJson('/api/indicators?by=band' + (state.date ? '&date=' + state.date : '')).then(function (d) {
      $('bands').innerHTML = bandsHtml(d.rows);
    }).catch(function () { $('bands').innerHTML = ''; });
    getJson('/api/progress' + q).then(function (p) {
      $('gauge').innerHTML = gaugeSvg(p.open || 0, p.goal || GOAL) + (p.asOf ? '<p class="note">au ' + fmtDate(p.asOf) + '</p>' : '');
      $('curve').innerHTML = curveSvg(p.series, p.projection, p.goal || GOAL);
    }).catch(function () {
      // Without /api/progress, the gauge still counts the open collectivités from the régions layer.
      var rq = new URLSearchParams({ zoom: '5' }); if (state.date) rq.set('date', state.date);
      getJson('/api/geo/regions?' + rq.toString()).then(function (fc) {
        var open = 0; fc.features.forEach(function (f) { open += f.properties.open || 0; });
        $('gauge').innerHTML = gaugeSvg(open, GOAL);
        $('curve').innerHTML = '<p class="note">La courbe depuis 2017 et la projection ne sont pas disponibles sur ce serveur.</p>';
      }).catch(function () { $('gauge').innerHTML = '<p class="note">Progression indisponible.</p>'; });
    });
  }

  /* ---------- Controls ---------- */
  function syncControls() {
    document.querySelectorAll('input[name=ind]').forEach(function (r) { r.checked = r.value === state.ind; });
    $('f-type').value = state.type; $('f-band').value = state.band; $('f-atd').value = ['', 'true', 'false'].indexOf(state.atd) >= 0 ? state.atd : '';
    $('f-obliged').checked = state.obliged; $('layer-atd').checked = state.atdl; $('layer-epci').checked = state.epci;
    $('date').value = state.date; $('date').max = new Date().toISOString().slice(0, 10);
  }
  function refresh() {
    writeHash(); loadAreas(); syncTiles(); syncAtd(); updateLegend(); updateDateBanner();
  }
  document.querySelectorAll('input[name=ind]').forEach(function (r) {
    r.addEventListener('change', function () {
      state.ind = r.value; writeHash();
      if (areaLayer) areaLayer.setStyle(areaStyle(areaLevel));
      updateLegend();
    });
  });
  $('f-type').addEventListener('change', function (e) { state.type = e.target.value; refresh(); });
  $('f-band').addEventListener('change', function (e) { state.band = e.target.value; refresh(); });
  $('f-atd').addEventListener('change', function (e) { state.atd = e.target.value; refresh(); });
  $('f-obliged').addEventListener('change', function (e) { state.obliged = e.target.checked; refresh(); });
  $('f-reset').addEventListener('click', function () { state.type = state.band = state.atd = ''; state.obliged = false; syncControls(); refresh(); });
  $('layer-atd').addEventListener('change', function (e) { state.atdl = e.target.checked; refresh(); });
  $('layer-epci').addEventListener('change', function (e) { state.epci = e.target.checked; refresh(); });
  $('date').addEventListener('change', function (e) {
    var v = e.target.value; state.date = /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : ''; refresh(); loadProgress();
    if (state.sel) select(state.sel, false);
  });
  $('date-reset').addEventListener('click', function () { state.date = ''; syncControls(); refresh(); loadProgress(); });
  $('card-close').addEventListener('click', unselect);
  document.querySelectorAll('[data-go]').forEach(function (b) {
    b.addEventListener('click', function () { map.fitBounds(PLACES[b.dataset.go]); });
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && !$('card').hidden && document.activeElement !== input) unselect();
  });

  map.on('moveend', function () { if (!restoring) refresh(); });

  /* ---------- Start ---------- */
  var restoring = false;
  function applyHash() {
    state = readHash();
    syncControls();
    restoring = true;
    if (state.z != null) map.setView([state.lat, state.lng], state.z, { animate: false });
    else { map.fitBounds(METRO, { animate: false }); if (map.getZoom() > OPENING_MAX_ZOOM) map.setZoom(OPENING_MAX_ZOOM, { animate: false }); }
    restoring = false;
    refresh();
    if (state.sel) select(state.sel, false); else { $('card').hidden = true; restyleSelection(); }
  }
  window.addEventListener('hashchange', function () { if (!writing) applyHash(); });
  applyHash();
  loadProgress();
  // For the browser tests and the curious: the map and the view state (without the position, read from the map).
  window.observatoire = { map: map, state: function () { var s = Object.assign({}, state); delete s.z; delete s.lat; delete s.lng; return s; } };
})();
