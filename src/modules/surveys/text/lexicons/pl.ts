import type { Lexicon } from './types.js';

export const pl: Lexicon = {
  positive: [
    'dobr', 'dobrze', 'świetn', 'doskonał', 'wspaniał', 'znakomit', 'rewelac', 'idealn', 'super', 'ekstra', 'szybk',
    'szybko', 'sprawn', 'miły', 'miła', 'miło', 'mili', 'uprzejm', 'życzliw', 'pomocn', 'profesjonaln', 'dziękuj',
    'dzięki', 'polec', 'zadowol', 'podoba', 'lubię', 'uwielbiam', 'łatw', 'wygodn', 'przyjemn', 'śwież', 'smaczn',
    'pyszn', 'najlepsz', 'tani', 'tanio', 'korzystn', 'na czas', 'w terminie', 'czyst', 'ładn', 'piękn',
    'bezproblem', 'intuicyjn', 'godn', 'brawo', 'punktualn', 'rzetelnie', 'rzeteln', 'fajn',
    'cierpliw', 'porządek', 'porządku', 'gładko', 'uśmiechnięt', 'kompetentn', 'pomógł', 'pomogł', 'rozwiąza', 'przyjemność', 'zorganizowan',
  ],
  negative: [
    '=zły', '=zła', '=złe', 'źle', 'okropn', 'fataln', 'straszn', 'tragiczn', 'tragedi', 'beznadziej', 'powoln',
    'opóźn', 'spóźn', 'niegrzeczn', 'nieuprzejm', 'chamsk', 'uszkodz', 'zepsut', 'zniszcz', 'drog', 'rozczar',
    'problem', 'błąd', 'błęd', 'brak', 'niezadowol', 'brudn', 'oszust', 'oszuk', 'zawiesza', 'wiesza', 'czekał',
    'długo', 'nieprzyjemn', 'niedopuszczaln', 'skandal', 'porażk', 'zgubi', 'nieświeży',
    'najgorsz', 'gorsz', 'niestety', 'żenując', 'niekompetent', 'kiepsk', 'słab', 'irytuj',
    'kwaśn', 'przeterminow', 'spleśnia', 'wylogow', 'kolejk', 'zbyt', 'za długo', 'hałas', 'śmierdz', 'wadliw', 'niedziałając', 'wyprzedan',
  ],
  negativeWhenNegated: ['dział', 'ładuj', 'odpowiad', 'odpisa', 'pomog', 'pomóg', 'dotarł', 'przyszł', 'otwiera', 'dostarcz', 'zadzwoni', 'odezwa',
    'odpowie', 'potrafi', 'zadziała', 'mogł',
  ],
  negators: ['nie', 'bez', 'nigdy', 'ani', 'nic', 'nikt', 'żaden', 'żadnych', 'żadnego'],
  contrast: ['ale', 'jednak', 'lecz', 'chociaż', 'choć', 'natomiast'],
  stopwords: [
    'i', 'a', 'o', 'w', 'we', 'z', 'ze', 'na', 'do', 'od', 'po', 'za', 'przez', 'przy', 'dla', 'u', 'pod', 'nad', 'bez',
    'że', 'to', 'ten', 'ta', 'te', 'tego', 'tej', 'tym', 'jest', 'są', 'był', 'była', 'było', 'byli', 'były', 'być',
    'będzie', 'się', 'nie', 'tak', 'już', 'jeszcze', 'bardzo', 'tylko', 'też', 'także', 'ale', 'lub', 'albo', 'czy',
    'jak', 'gdy', 'kiedy', 'jeśli', 'bo', 'więc', 'ja', 'my', 'wy', 'on', 'ona', 'ono', 'oni', 'one', 'mnie', 'mi',
    'nam', 'nas', 'was', 'wam', 'go', 'mu', 'jej', 'ich', 'im', 'mój', 'moja', 'moje', 'nasz', 'wasz', 'który', 'która',
    'które', 'którzy', 'co', 'tu', 'tam', 'wszystko', 'wszystkie', 'jednak', 'mam', 'ma', 'mają', 'miał', 'miała',
  ],
  suffixes: ['ami', 'ach', 'ego', 'emu', 'owi', 'ymi', 'imi', 'ów', 'om', 'em', 'ie', 'ia', 'ą', 'ę', 'y', 'i', 'a', 'e', 'u', 'o'],
  markers: ['przy', 'przez', 'nie', 'jest', 'był', 'była', 'było', 'bardzo', 'się', 'w', 'z', 'i', 'na', 'do', 'że', 'ale', 'to', 'tak', 'już', 'jeszcze', 'przez', 'mój', 'moja', 'dla', 'po', 'też', 'czy', 'jak', 'tylko', 'wszystko'],
};
