// The editor page (/contribuer): an ATD editor or an administrator pastes an API key, picks a
// collectivité (search, or the ATD's to-do list; only its perimeter can be chosen), sees its history,
// records or corrects an observation, and reads what the audit log kept. The key stays in this tab
// (sessionStorage) and only travels in the Authorization header.

import { $, el, fill, nf, fmtDate, todayInFrance } from './dom.js';
import { sourceLabel } from './labels.js';

const KEY = 'observatoire.cle';
let me = null;            // { name, role, atd, perimeter }
let perimeter = null;     // Set of ids the key may write for; null: everything (administrator)
let current = null;       // the selected collectivité's card
let idempotencyKey = null;

const ROLE_LABELS = { admin: 'administrateur', 'atd-editor': 'éditeur d\'ATD' };

async function api(url, options = {}) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) };
  const key = sessionStorage.getItem(KEY);
  if (key) headers.Authorization = 'Bearer ' + key;
  // no-cache: revalidate (ETag) instead of reusing the browser's copy; a write changes the answers at once.
  const r = await fetch(url, { cache: 'no-cache', ...options, headers });
  const body = r.status === 204 ? null : await r.json().catch(() => null);
  return { ok: r.ok, status: r.status, body };
}

const problemText = (r) => (r.body && (r.body.detail || r.body.title)) || ('Erreur ' + r.status);

async function useKey(key) {
  sessionStorage.setItem(KEY, key);
  const r = await api('/api/contributor');
  if (!r.ok) {
    sessionStorage.removeItem(KEY);
    me = null;
    $('editor').hidden = true;
    fill($('key-status'), 'Clé refusée : ' + problemText(r));
    return;
  }
  me = r.body;
  perimeter = me.perimeter ? new Set(me.perimeter) : null;
  fill($('key-status'), 'Connecté : ', el('strong', null, me.name), ' — ' + (ROLE_LABELS[me.role] || me.role),
    me.atd ? ' de l\'ATD « ' + (me.atd.name || me.atd.id) + ' » (' + nf.format(perimeter.size) + ' collectivités dans son périmètre)' : ' (toutes les collectivités)');
  $('editor').hidden = false;
  await Promise.all([loadTodo(), loadAudit()]);
  await selectFromAddress();
}

/** /contribuer#c=COM-35238: the collectivité chosen on the map's card, if the key may write for it. */
async function selectFromAddress() {
  const id = new URLSearchParams(location.hash.slice(1)).get('c');
  if (!id || !/^[A-Z]{2,5}-[0-9A-Z]{1,9}$/.test(id)) return;
  if (allowed(id)) await select(id);
  else fill($('find-results'), el('li', { class: 'refused' }, id + ' n\'est pas dans le périmètre de votre ATD : choisissez une collectivité de la liste à faire ou de la recherche.'));
}

const allowed = (id) => !perimeter || perimeter.has(id);

function choice(item, label) {
  const ok = allowed(item.id);
  return el('li', null, ok
    ? el('button', { type: 'button', class: 'linkish', dataset: { id: item.id }, on: { click: () => select(item.id) } }, label)
    : el('span', { class: 'note' }, label + ' — hors de votre périmètre'));
}

async function find(q) {
  const r = await api('/api/search?q=' + encodeURIComponent(q));
  const items = r.ok ? r.body.results.filter((x) => x.type !== 'ATD') : [];
  fill($('find-results'), items.length ? items.map((x) => choice(x, x.name + ' (' + x.type + ' ' + x.code + (x.departement ? ', ' + x.departement : '') + ')'))
    : el('li', { class: 'note' }, r.ok ? 'Aucune collectivité trouvée.' : problemText(r)));
}

async function loadTodo() {
  if (!me || !me.atd) return;
  const r = await api('/api/atd/' + encodeURIComponent(me.atd.id) + '/todo?limit=20');
  $('todo-box').hidden = false;
  if (!r.ok) { fill($('todo-list'), el('li', { class: 'note' }, problemText(r))); return; }
  fill($('todo-note'), r.body.count
    ? 'Collectivités obligées de votre périmètre pas encore ouvertes, les plus peuplées d\'abord' + (r.body.count === 20 ? ' (les 20 premières)' : '') + ' :'
    : 'Toutes les collectivités obligées de votre périmètre sont ouvertes.');
  fill($('todo-list'), r.body.items.map((x) => choice(x, x.name + ' (' + x.type + ' ' + x.code + (x.population != null ? ', ' + nf.format(x.population) + ' hab.' : '') + ')')));
}

async function loadAudit() {
  const r = await api('/api/audit?top=10');
  fill($('audit-list'), !r.ok ? el('li', { class: 'note' }, problemText(r))
    : r.body.items.length ? r.body.items.map((a) => el('li', { class: a.outcome === 'accepted' ? 'accepted' : 'refused' },
      new Date(a.at).toLocaleString('fr-FR') + ' — ' + (a.outcome === 'accepted' ? 'acceptée' : 'refusée') + ' (' + a.status + ') : ' + a.action
      + (a.collectivite ? ' ' + a.collectivite : '') + (a.observation ? ', observation n° ' + a.observation : '') + (a.reason ? ' — ' + a.reason : '')))
    : el('li', { class: 'note' }, 'Aucune écriture pour l\'instant.'));
}

async function select(id) {
  const r = await api('/api/collectivites/' + encodeURIComponent(id));
  if (!r.ok) { fill($('obs-result'), problemText(r)); return; }
  current = r.body;
  idempotencyKey = crypto.randomUUID();
  $('selected').hidden = false;
  fill($('sel-name'), current.name + ' (' + current.type + ' ' + current.code + ')');
  fill($('sel-status'), current.open ? 'Ouverte selon la dernière observation' : 'Pas ouverte selon la dernière observation',
    current.lastObservedOn ? ' (' + fmtDate(current.lastObservedOn) + ').' : '.', ' ',
    el('a', { href: '/#sel=' + encodeURIComponent(current.id) }, 'Voir sur la carte'));
  const history = current.history || [];
  fill($('sel-history'), history.length
    ? el('table', { id: 'edit-history' },
      el('caption', null, 'Historique (n° d\'observation pour une correction)'),
      el('thead', null, el('tr', null, ['N°', 'Date', 'Statut', 'Jeux locaux', 'data.gouv.fr', 'Source'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', null, history.map((o) => el('tr', { class: o.supersededBy ? 'superseded' : null },
        el('td', null, String(o.id)), el('td', null, fmtDate(o.date)),
        el('td', null, (o.open ? 'ouverte' : 'non listée') + (o.supersededBy ? ' (corrigée par n° ' + o.supersededBy + ')' : '')),
        el('td', null, o.datasetsLocal != null ? nf.format(o.datasetsLocal) : '—'),
        el('td', null, o.datasetsDatagouv != null ? nf.format(o.datasetsDatagouv) : '—'),
        el('td', null, sourceLabel(o))))))
    : el('p', { class: 'note' }, 'Aucune observation enregistrée.'));
  fill($('f-supersedes'), el('option', { value: '' }, 'aucune (nouvelle observation)'),
    history.filter((o) => !o.supersededBy && o.source === 'contribution').map((o) =>
      el('option', { value: String(o.id) }, 'n° ' + o.id + ' du ' + fmtDate(o.date))));
  if (!$('f-date').value) $('f-date').value = todayInFrance();
  $('f-date').max = todayInFrance();
  fill($('obs-result'));
  $('sel-name').setAttribute('tabindex', '-1');
  $('sel-name').focus();
}

function number(id) {
  const v = $(id).value.trim();
  return v === '' ? null : Number(v);
}

async function submit(ev) {
  ev.preventDefault();
  if (!current) return;
  const platforms = $('f-platforms').value.split(',').map((s) => s.trim()).filter(Boolean);
  const body = {
    collectivite: current.id,
    observedOn: $('f-date').value,
    open: $('f-open').checked,
    datasetsLocal: number('f-local'),
    datasetsDataGouv: number('f-dg'),
    platforms,
    url: $('f-url').value.trim() || null,
    note: $('f-note').value.trim() || null,
    supersedes: $('f-supersedes').value ? Number($('f-supersedes').value) : null,
  };
  const r = await api('/api/observations', {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
  });
  if (r.ok) {
    $('obs-form').reset();
    $('f-date').value = body.observedOn;
    const id = current.id;
    await Promise.all([select(id), loadTodo(), loadAudit()]);
    fill($('obs-result'), el('p', { class: 'ok' }, 'Observation n° ' + r.body.id + ' enregistrée pour ' + r.body.collectivite.name + ' (' +
      fmtDate(r.body.observedOn) + ', ' + (r.body.open ? 'ouverte' : 'non listée') + '). La carte et la liste à faire en tiennent compte.'));
  } else {
    fill($('obs-result'), el('p', { class: 'error' }, 'Refusée : ' + problemText(r)));
    await loadAudit();
  }
}

$('key-form').addEventListener('submit', (ev) => { ev.preventDefault(); useKey($('key-input').value.trim()); $('key-input').value = ''; });
$('find-form').addEventListener('submit', (ev) => { ev.preventDefault(); find($('find-input').value.trim()); });
$('obs-form').addEventListener('submit', submit);
if (sessionStorage.getItem(KEY)) useKey(sessionStorage.getItem(KEY));
