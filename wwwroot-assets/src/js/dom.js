// DOM helpers: every text is inserted as text (textContent, attributes), never parsed as HTML.

export const $ = (id) => document.getElementById(id);

function append(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
}

/** el('a', { href: u, class: 'x', dataset: { sel: id }, on: { click: f } }, 'text', child…) */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'on') for (const [ev, f] of Object.entries(v)) node.addEventListener(ev, f);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
}

/** Replaces the children of a node. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export const nf = new Intl.NumberFormat('fr-FR');
export const pf = new Intl.NumberFormat('fr-FR', { style: 'percent', maximumFractionDigits: 1 });
const df = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
export const fmtDate = (iso) => (iso ? df.format(new Date(iso + 'T00:00:00Z')) : '');
// Today in France (AAAA-MM-JJ), the server's « aujourd'hui » (QueryParameters.Today) whatever the
// browser's time zone: a date the server would refuse as future is never offered.
export const todayInFrance = () => new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' });
export const plural = (n, one, many) => nf.format(n) + ' ' + (n > 1 ? many : one);

export async function getJson(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!r.ok) { const e = new Error('HTTP ' + r.status); e.status = r.status; throw e; }
  return r.json();
}
