/**
 * Names as people in each of Patron's five locales write them — Cyrillic for
 * Bulgarian and Russian, Polish and Romanian diacritics — with the gendered
 * surname forms those languages use, and the Latin spelling people pick for
 * their e-mail addresses. Hand-written: common faker libraries lack Bulgarian.
 */
import type { Locale } from '../platform/http/schema.js';

export type Gender = 'f' | 'm';

interface LocaleNames {
  male: readonly string[];
  female: readonly string[];
  /** Surnames in their masculine (dictionary) form. */
  surnames: readonly string[];
  /** The feminine form of a surname. */
  feminine: (surname: string) => string;
}

/** Slavic -ов/-ев/-ин surnames take -а; adjectival ones change their ending. */
const cyrillicFeminine = (s: string) =>
  s.endsWith('ский') ? `${s.slice(0, -4)}ская`
    : s.endsWith('цкий') ? `${s.slice(0, -4)}цкая`
      : s.endsWith('ски') ? `${s.slice(0, -3)}ска`
        : /(ов|ев|ёв|ин)$/.test(s) ? `${s}а`
          : s;

const polishFeminine = (s: string) => (/(ski|cki|dzki)$/.test(s) ? `${s.slice(0, -1)}a` : s);

export const NAMES: Record<Locale, LocaleNames> = {
  bg: {
    male: ['Георги', 'Иван', 'Димитър', 'Николай', 'Петър', 'Христо', 'Стефан', 'Александър', 'Васил', 'Тодор', 'Мартин', 'Калоян', 'Борис', 'Виктор', 'Любомир', 'Радослав', 'Емил', 'Пламен', 'Йордан', 'Ангел', 'Кристиян', 'Даниел', 'Атанас', 'Симеон', 'Страхил', 'Цветан'],
    female: ['Мария', 'Иванка', 'Елена', 'Йорданка', 'Пенка', 'Десислава', 'Гергана', 'Цветелина', 'Николета', 'Виктория', 'Радостина', 'Теодора', 'Силвия', 'Габриела', 'Надежда', 'Ралица', 'Милена', 'Калина', 'Весела', 'Боряна', 'Кристина', 'Ивелина', 'Петя', 'Анелия', 'Жана', 'Стилияна'],
    surnames: ['Иванов', 'Георгиев', 'Димитров', 'Петров', 'Николов', 'Христов', 'Стоянов', 'Тодоров', 'Илиев', 'Василев', 'Атанасов', 'Петков', 'Ангелов', 'Колев', 'Йорданов', 'Марков', 'Попов', 'Стефанов', 'Костов', 'Михайлов', 'Данаилов', 'Кирилов', 'Русев', 'Цветков', 'Маринов', 'Бойчев', 'Желязков', 'Станев', 'Янков', 'Лазаров', 'Шишков', 'Чолаков', 'Вазов', 'Щерев', 'Ковачев', 'Българанов', 'Радомирски'],
    feminine: cyrillicFeminine,
  },
  ru: {
    male: ['Александр', 'Дмитрий', 'Сергей', 'Андрей', 'Алексей', 'Максим', 'Иван', 'Михаил', 'Никита', 'Артём', 'Евгений', 'Владимир', 'Павел', 'Роман', 'Кирилл', 'Олег', 'Николай', 'Илья', 'Юрий', 'Фёдор'],
    female: ['Анна', 'Мария', 'Елена', 'Ольга', 'Наталья', 'Татьяна', 'Екатерина', 'Ирина', 'Светлана', 'Юлия', 'Анастасия', 'Дарья', 'Ксения', 'Полина', 'Алина', 'Виктория', 'Софья', 'Вера', 'Людмила', 'Эльвира'],
    surnames: ['Смирнов', 'Иванов', 'Кузнецов', 'Соколов', 'Попов', 'Лебедев', 'Козлов', 'Новиков', 'Морозов', 'Петров', 'Волков', 'Соловьёв', 'Васильев', 'Зайцев', 'Павлов', 'Семёнов', 'Голубев', 'Виноградов', 'Богданов', 'Воробьёв', 'Фёдоров', 'Михайлов', 'Беляев', 'Тарасов', 'Белов', 'Орлов', 'Киселёв', 'Макаров', 'Андреев', 'Ковалёв', 'Жуковский', 'Щербаков', 'Ильин', 'Высоцкий'],
    feminine: cyrillicFeminine,
  },
  ro: {
    male: ['Andrei', 'Alexandru', 'Ștefan', 'Mihai', 'Ion', 'Gheorghe', 'Cristian', 'Florin', 'Răzvan', 'Bogdan', 'Adrian', 'Vlad', 'Ionuț', 'Sorin', 'Radu', 'Cătălin', 'Tudor', 'Marius', 'Dragoș', 'Constantin'],
    female: ['Maria', 'Elena', 'Ioana', 'Andreea', 'Alexandra', 'Mihaela', 'Ana', 'Cristina', 'Diana', 'Raluca', 'Gabriela', 'Irina', 'Bianca', 'Ștefania', 'Oana', 'Roxana', 'Alina', 'Iulia', 'Daniela', 'Simona'],
    surnames: ['Popescu', 'Ionescu', 'Popa', 'Constantinescu', 'Dumitrescu', 'Stan', 'Stoica', 'Gheorghiu', 'Matei', 'Ciobanu', 'Rusu', 'Munteanu', 'Mureșan', 'Lungu', 'Țăranu', 'Moldovan', 'Oprea', 'Nistor', 'Dinu', 'Marin', 'Toma', 'Ștefănescu', 'Bălan', 'Căpraru', 'Sârbu', 'Neagu', 'Roman', 'Vasilescu', 'Țurcanu', 'Brâncoveanu'],
    feminine: (s) => s,
  },
  pl: {
    male: ['Piotr', 'Krzysztof', 'Andrzej', 'Tomasz', 'Paweł', 'Michał', 'Marcin', 'Łukasz', 'Jakub', 'Grzegorz', 'Mateusz', 'Adam', 'Wojciech', 'Kamil', 'Bartłomiej', 'Szymon', 'Jan', 'Maciej', 'Rafał', 'Przemysław'],
    female: ['Anna', 'Katarzyna', 'Małgorzata', 'Agnieszka', 'Barbara', 'Ewa', 'Magdalena', 'Joanna', 'Zofia', 'Aleksandra', 'Monika', 'Natalia', 'Karolina', 'Marta', 'Dorota', 'Justyna', 'Beata', 'Żaneta', 'Paulina', 'Weronika'],
    surnames: ['Nowak', 'Kowalski', 'Wiśniewski', 'Wójcik', 'Kowalczyk', 'Kamiński', 'Lewandowski', 'Zieliński', 'Szymański', 'Woźniak', 'Dąbrowski', 'Kozłowski', 'Jankowski', 'Mazur', 'Wojciechowski', 'Kwiatkowski', 'Krawczyk', 'Kaczmarek', 'Piotrowski', 'Grabowski', 'Zając', 'Pawłowski', 'Michalski', 'Król', 'Wieczorek', 'Jabłoński', 'Wróbel', 'Nowakowski', 'Majewski', 'Olszewski', 'Stępień', 'Żółkiewski', 'Sikora', 'Baran', 'Duda', 'Szewczyk', 'Górski', 'Rutkowski', 'Ostrowski', 'Dudek', 'Sienkiewicz'],
    feminine: polishFeminine,
  },
  en: {
    male: ['James', 'Oliver', 'Harry', 'George', 'Thomas', 'William', 'Jack', 'Daniel', 'Samuel', 'Joseph', 'Charlie', 'Henry', 'Benjamin', 'Edward', 'Matthew', 'Luke', 'Alexander', 'Ryan', 'Noah', 'Oscar'],
    female: ['Olivia', 'Amelia', 'Isla', 'Emily', 'Sophie', 'Grace', 'Charlotte', 'Jessica', 'Lucy', 'Hannah', 'Chloe', 'Ella', 'Eleanor', 'Rebecca', 'Laura', 'Megan', 'Alice', 'Poppy', 'Freya', 'Zoe'],
    surnames: ['Smith', 'Jones', 'Williams', 'Taylor', 'Brown', 'Davies', 'Evans', 'Wilson', 'Thomas', 'Johnson', 'Roberts', 'Robinson', 'Thompson', 'Wright', 'Walker', 'White', 'Edwards', 'Hughes', 'Green', 'Hall', 'Lewis', 'Harris', 'Clarke', 'Patel', 'Jackson', 'Wood', 'Turner', 'Martin', 'Cooper', 'Hill', "O'Brien", 'Murphy', 'MacDonald'],
    feminine: (s) => s,
  },
};

/** A first name and surname as a person of `gender` in `locale` writes them. */
export function personName(locale: Locale, gender: Gender, pick: <T>(items: readonly T[]) => T): { first: string; last: string } {
  const n = NAMES[locale];
  const first = pick(gender === 'f' ? n.female : n.male);
  const surname = pick(n.surnames);
  return { first, last: gender === 'f' ? n.feminine(surname) : surname };
}

// Bulgarian: the official Streamlined System (2009 transliteration law); Russian: the common passport-style spelling.
const BG: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r',
  с: 's', т: 't', у: 'u', ф: 'f', х: 'h', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'sht', ъ: 'a', ь: 'y', ю: 'yu', я: 'ya',
};
const RU: Record<string, string> = {
  ...BG, ё: 'e', х: 'kh', щ: 'shch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'yu', я: 'ya', й: 'y',
};

/**
 * The lower-case ASCII spelling of a name for an e-mail address: Cyrillic
 * transliterated, Latin diacritics dropped (ł, which has no decomposition, too).
 */
export function asciiName(name: string, locale: Locale): string {
  const table = locale === 'ru' ? RU : BG;
  let out = '';
  for (const ch of name.toLowerCase()) out += table[ch] ?? ch;
  return out
    .replace(/ł/g, 'l')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]/g, '');
}
