// French labels of the codes the API returns, and the map's colours.

export const TYPE_LABELS = {
  COM: 'Commune', CC: 'Communauté de communes', CA: "Communauté d'agglomération", CU: 'Communauté urbaine',
  MET: 'Métropole', EPT: 'Établissement public territorial', DEP: 'Département', REG: 'Région',
  COLOM: "Collectivité d'outre-mer", ATD: 'Animateur territorial des données',
};
// In the API's order, which is the numeric order.
export const BANDS = [
  ['<500', 'moins de 500 hab.'], ['500-1999', '500 à 1 999 hab.'], ['2000-3499', '2 000 à 3 499 hab.'],
  ['3500-9999', '3 500 à 9 999 hab.'], ['10000-19999', '10 000 à 19 999 hab.'], ['20000-49999', '20 000 à 49 999 hab.'],
  ['50000-99999', '50 000 à 99 999 hab.'], ['>=100000', '100 000 hab. et plus'],
];
export const BAND_LABELS = Object.fromEntries(BANDS);
export const ATD_KIND_LABELS = {
  region: 'Région', departement: 'Département', epci: 'Intercommunalité', commune: 'Commune', syndicat: 'Syndicat mixte',
  agence: 'Agence technique', gip: "Groupement d'intérêt public", other: 'Autre structure',
};
export const ATD_SCALE_LABELS = { regional: 'échelle régionale', departemental: 'échelle départementale', intercommunal: 'échelle intercommunale' };
// Platforms' collaboration modes (platform.collaboration_mode).
export const PLATFORM_MODE_LABELS = { dedicated: 'dédiée', mutualised: 'mutualisée', partnership: 'en partenariat', shared: 'partagée' };
export const PERIMETER_LABELS = { region: 'Région', departements: 'Départements', epci: 'Intercommunalités', communes: 'Communes accompagnées' };

// Colour-blind-safe (ColorBrewer YlGnBu, 6 classes: each step differs in lightness, not only in hue).
export const RAMP = ['#ffffcc', '#c7e9b4', '#7fcdbb', '#41b6c4', '#2c7fb8', '#253494'];
export const NO_DATA = '#bdbdbd';
// Commune statuses: blue / orange (distinct for every kind of colour blindness), and a sand colour
// for non-obliged communes that the light-blue sea never matches.
export const STATUS = {
  open: { color: '#2c7fb8', label: 'Ouverte (publie des données)' },
  obliged: { color: '#e66101', label: 'Obligée, pas encore ouverte' },
  other: { color: '#efe3c8', label: 'Non obligée, pas ouverte' },
};

// The « Changements » mode: each kind of change by colour AND by shape, for colour-blind readers (filled
// or hollow, large or small marker); the map's background turns neutral so that only changes stand out.
export const CHANGE = {
  new: { color: '#1a7f37', fill: '#2ca25f', hollow: false, radius: 7, label: 'Nouvellement ouverte' },
  gone: { color: '#b91c1c', fill: '#ffffff', hollow: true, radius: 7, label: 'N’apparaît plus ouverte' },
  up: { color: '#3f7f4f', fill: '#a1d99b', hollow: false, radius: 4.5, label: 'Jeux de données en hausse' },
  down: { color: '#b4533c', fill: '#fcbba1', hollow: false, radius: 4.5, label: 'Jeux de données en baisse' },
};
export const CHANGE_BACKGROUND = '#eceeea';

/** "published" (a published edition's count) or "observed" (counted from observations): /api/progress's series kinds. */
export const isPublished = (kind) => kind === 'published';

/** Where an observation comes from: a directory snapshot, data.gouv.fr's harvest, or a contributor (its key's name) with its note. */
export function sourceLabel(o) {
  if (o.source.startsWith('datagouv-')) return 'data.gouv.fr (moissonnage)';
  if (o.source !== 'contribution') return o.source.startsWith('odf-') ? 'annuaire OpenDataFrance' : o.source;
  return 'saisie : ' + (o.recordedBy || 'contributeur') + (o.note ? ' — ' + o.note : '');
}
