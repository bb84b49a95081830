// The search box: a combobox over /api/search (collectivités and ATD, typos tolerated by the server).
// The list opens with no option active: ArrowDown goes to the first result, Enter without an active
// option opens the best match (the first), Escape closes the list and keeps the focus in the box.
import { $, el, fill, getJson } from './dom.js';
import { TYPE_LABELS } from './labels.js';

const input = $('search-input'), list = $('search-results');
let results = [], active = -1, timer = null, seq = 0, resultsFor = null;
let onChoose = () => {};

function close() { list.hidden = true; input.setAttribute('aria-expanded', 'false'); input.removeAttribute('aria-activedescendant'); active = -1; }
function render() {
  if (!results.length) fill(list, el('li', { class: 'empty', role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false' }, 'Aucune collectivité ni ATD trouvé'));
  else {
    fill(list, results.map((r, i) => el('li', { role: 'option', id: 'sr-' + i, 'aria-selected': String(i === active), dataset: { i: String(i) } },
      r.name, el('br'), el('span', { class: 'meta' }, (TYPE_LABELS[r.type] || r.type) +
        (r.departement ? ' · ' + (r.departementName || r.departement) : '') + (r.type === 'COM' ? ' · ' + r.code : '')))));
  }
  list.hidden = false; input.setAttribute('aria-expanded', 'true');
  if (active >= 0) { input.setAttribute('aria-activedescendant', 'sr-' + active); $('sr-' + active).scrollIntoView({ block: 'nearest' }); }
  else input.removeAttribute('aria-activedescendant');
}
function choose(r) { close(); input.value = r.name; onChoose(r); }

async function run(q) {
  const mine = ++seq;
  try {
    const d = await getJson('/api/search?q=' + encodeURIComponent(q));
    if (mine !== seq) return false;
    results = d.results;
  } catch {
    if (mine !== seq) return false;
    results = [];
  }
  resultsFor = q; active = -1; render();
  return true;
}

export function initSearch(choice) {
  onChoose = choice;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) { close(); return; }
    timer = setTimeout(() => run(q), 150);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!results.length || list.hidden) return;
      e.preventDefault();
      const n = results.length;
      active = e.key === 'ArrowDown' ? (active + 1) % n : (active <= 0 ? n - 1 : active - 1);
      render();
    } else if (e.key === 'Escape' && !list.hidden) { e.stopPropagation(); close(); }
  });
  $('search').addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    // Enter before the list caught up with the typing: search what is typed now, take the best.
    if (q !== resultsFor) { clearTimeout(timer); if (!(await run(q))) return; }
    if (results.length) choose(results[Math.max(active, 0)]);
  });
  list.addEventListener('click', (e) => { const li = e.target.closest('li[data-i]'); if (li) choose(results[+li.dataset.i]); });
  document.addEventListener('click', (e) => { if (!e.target.closest('#search')) close(); });
}
