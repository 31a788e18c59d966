import type { Lexicon } from './types.js';

export const ro: Lexicon = {
  positive: [
    '=bun', '=buna', '=bună', '=bune', '=buni', 'excelent', 'minunat', 'extraordinar', 'perfect', 'super', 'grozav',
    'rapid', 'prompt', 'amabil', 'politicos', 'politicoș', 'prietenos', 'profesionist', 'mulțum', 'plăc', '=place',
    'recomand', 'încântat', 'fericit', 'ușor', 'simplu', 'comod', 'convenabil', 'plăcut', 'proaspăt', 'gustos',
    'delicios', 'ieftin', 'avantajos', 'la timp', 'frumos', 'curat', 'atent', 'săritor', 'de ajutor', 'bravo', 'top',
    'cel mai bun', 'impecabil', 'eficient', 'corect', 'iubesc', 'ador',
    'drăguț', 'răbdător', 'ordonat', '=ajutat', 'rezolvat', 'zâmbitor', 'competent', 'organizat', 'plăcere', 'fără probleme',
  ],
  negative: [
    '=rău', '=rea', '=rele', 'prost', 'proast', 'groaznic', 'oribil', 'îngrozitor', 'dezastru', 'lent', 'încet',
    'întârzi', 'nepoliticos', 'obraznic', 'spart', 'stricat', 'deteriorat', 'defect', 'scump', 'dezamăg', 'problem',
    'eroare', 'erori', 'greșit', 'greșeal', 'lipsă', 'lipsea', 'lipse', 'nemulțum', 'murdar', 'jignitor', 'bloc',
    'inacceptabil', 'țeapă', 'păcăl', 'pierdut', 'așteptat', 'aștept', 'mult prea', 'neplăcut', 'complicat',
    'urât', 'anulat', 'bătaie de joc', 'praf', 'nasol', 'ignorat',
    'acru', 'acră', 'alterat', 'expirat', 'mucegă', 'deconect', 'coadă', '=prea', 'supraîncărcat', 'zgomot', 'miros', 'defect', 'stoc epuizat', 'nefuncțional',
  ],
  negativeWhenNegated: ['funcțion', 'merge', 'încarc', 'răspun', 'ajut', 'ajuns', 'sosit', 'deschide', 'livrat', 'sunat',
    'putut',
    'ajuns',
  ],
  negators: ['nu', '=n', 'niciodată', 'fără', 'nici', 'nicio', 'niciun', 'niciunul', 'nimic', 'nimeni'],
  contrast: ['dar', 'însă', 'totuși', 'deși', 'ci'],
  stopwords: [
    'și', 'sau', 'dar', 'însă', 'în', 'la', 'de', 'din', 'pe', 'cu', 'pentru', 'prin', 'după', 'până', 'spre', 'despre',
    'un', 'o', 'unui', 'unei', 'niște', 'a', 'al', 'ai', 'ale', 'cel', 'cea', 'cei', 'cele', 'este', 'e', 'sunt', 'era',
    'au', 'am', 'ai', 'a', 'fost', 'fi', 'fie', 'va', 'vor', 'să', 'se', 'mi', 'mă', 'ne', 'ni', 'vă', 'vi', 'le', 'li',
    'îi', 'îl', 'o', 'eu', 'tu', 'el', 'ea', 'noi', 'voi', 'ei', 'ele', 'meu', 'mea', 'mei', 'mele', 'nostru', 'noastră',
    'acest', 'această', 'acesta', 'aceasta', 'acel', 'acea', 'care', 'ce', 'cine', 'cum', 'când', 'unde', 'foarte',
    'mai', 'prea', 'doar', 'deja', 'încă', 'tot', 'toate', 'toți', 'nu', 'da', 'că', 'dacă', 'deci', 'iar', 'și-a',
  ],
  suffixes: ['urilor', 'ilor', 'ului', 'urile', 'ele', 'ile', 'ul', 'uri', 'ii', 'ei', 'ea', 'le', 'e', 'i', 'a', 'ă'],
  markers: ['și', 'este', 'e', 'foarte', 'nu', 'cu', 'la', 'pe', 'în', 'din', 'mai', 'dar', 'care', 'pentru', 'era', 'fost', 'sunt', 'am', 'au', 'mi', 'ne', 'un', 'o', 'să', 'că', 'după', 'mulțumesc'],
};
