/**
 * The built-in wording of the standard questions (NPS, CSAT, CES, CSI and CLI blocks, rating) and of their scale
 * ends, in every language Patron speaks. A survey may word a question its own way (`text`, `items`); these are what a
 * respondent sees when it does not, so a marketer can publish a standard survey without writing a line.
 *
 * Wording choices, so translators keep them: the respondent is addressed politely (Bulgarian and Russian plural "Вие"
 * / "вы", Romanian "dumneavoastră"); Polish uses the informal "ty" that Polish shops use with customers. Questions
 * avoid forms that depend on the respondent's gender; scale ends are nouns or adverbs ("Full agreement", "Very
 * well"); the first-person statements of the CSI block cannot avoid it and give both forms ("доволен/доволна").
 */
import type { CliItem, CsiItem, Language, QuestionType } from './surveys.types.js';

/** A text in every language (the built-in wording is never partial). */
export type AllTexts = Record<Language, string>;

export interface ScaleEnds {
  /** The label of the scale's lowest value (0 or 1). */
  low: AllTexts;
  /** The label of the scale's highest value. */
  high: AllTexts;
}

export type StandardType = Extract<QuestionType, 'nps' | 'csat' | 'ces' | 'csi' | 'cli' | 'rating'>;
export const STANDARD_TYPES: readonly StandardType[] = ['nps', 'csat', 'ces', 'csi', 'cli', 'rating'];
export const isStandardType = (t: QuestionType): t is StandardType => (STANDARD_TYPES as readonly string[]).includes(t);

export interface StandardWording {
  /** The question (for the blocks: the instruction above their items). */
  text: AllTexts;
  ends: ScaleEnds;
}

export const STANDARD_WORDING: Record<StandardType, StandardWording> = {
  nps: {
    text: {
      en: 'How likely are you to recommend us to a friend or colleague?',
      bg: 'Колко вероятно е да ни препоръчате на приятел или колега?',
      ru: 'Насколько вероятно, что вы порекомендуете нас другу или коллеге?',
      ro: 'Cât de probabil este să ne recomandați unui prieten sau coleg?',
      pl: 'Jak bardzo prawdopodobne jest, że polecisz nas znajomemu lub współpracownikowi?',
    },
    ends: {
      low: { en: 'Not at all likely', bg: 'Изобщо не е вероятно', ru: 'Совсем маловероятно', ro: 'Deloc probabil', pl: 'Bardzo mało prawdopodobne' },
      high: { en: 'Extremely likely', bg: 'Изключително вероятно', ru: 'Очень вероятно', ro: 'Foarte probabil', pl: 'Bardzo prawdopodobne' },
    },
  },
  csat: {
    text: {
      en: 'Overall, how satisfied are you with us?',
      bg: 'Като цяло, колко сте доволни от нас?',
      ru: 'В целом, насколько вы нами довольны?',
      ro: 'În general, cât de mulțumit(ă) sunteți de noi?',
      pl: 'Jak ogólnie oceniasz swoje zadowolenie z naszych usług?',
    },
    ends: {
      low: { en: 'Very dissatisfied', bg: 'Много недоволни', ru: 'Очень недовольны', ro: 'Foarte nemulțumit(ă)', pl: 'Bardzo nisko' },
      high: { en: 'Very satisfied', bg: 'Много доволни', ru: 'Очень довольны', ro: 'Foarte mulțumit(ă)', pl: 'Bardzo wysoko' },
    },
  },
  ces: {
    text: {
      en: 'How much do you agree: “The company made it easy for me to handle my issue.”',
      bg: 'Доколко сте съгласни: „Компанията ми улесни решаването на въпроса.“',
      ru: 'Насколько вы согласны: «Компания помогла мне легко решить мой вопрос»?',
      ro: 'În ce măsură sunteți de acord: „Compania mi-a ușurat rezolvarea problemei.”',
      pl: 'W jakim stopniu zgadzasz się ze zdaniem: „Firma ułatwiła mi załatwienie mojej sprawy.”',
    },
    ends: {
      low: { en: 'Strongly disagree', bg: 'Категорично несъгласие', ru: 'Полное несогласие', ro: 'Dezacord total', pl: 'Zdecydowanie się nie zgadzam' },
      high: { en: 'Strongly agree', bg: 'Пълно съгласие', ru: 'Полное согласие', ro: 'Acord total', pl: 'Zdecydowanie się zgadzam' },
    },
  },
  csi: {
    text: {
      en: 'Please rate the following.',
      bg: 'Моля, оценете следното.',
      ru: 'Пожалуйста, оцените следующее.',
      ro: 'Vă rugăm să evaluați următoarele.',
      pl: 'Prosimy o ocenę poniższych stwierdzeń.',
    },
    ends: {
      low: { en: 'Not at all', bg: 'Изобщо не', ru: 'Совсем нет', ro: 'Deloc', pl: 'Wcale' },
      high: { en: 'Completely', bg: 'Напълно', ru: 'Полностью', ro: 'În totalitate', pl: 'W pełni' },
    },
  },
  cli: {
    text: {
      en: 'How likely are you to do the following? (1 = definitely, 6 = definitely not)',
      bg: 'Колко вероятно е да направите следното? (1 = със сигурност, 6 = със сигурност не)',
      ru: 'Насколько вероятно, что вы сделаете следующее? (1 = точно да, 6 = точно нет)',
      ro: 'Cât de probabil este să faceți următoarele? (1 = sigur da, 6 = sigur nu)',
      pl: 'Jak prawdopodobne jest, że zrobisz poniższe? (1 = na pewno tak, 6 = na pewno nie)',
    },
    ends: {
      low: { en: 'Definitely', bg: 'Със сигурност', ru: 'Точно да', ro: 'Sigur da', pl: 'Na pewno tak' },
      high: { en: 'Definitely not', bg: 'Със сигурност не', ru: 'Точно нет', ro: 'Sigur nu', pl: 'Na pewno nie' },
    },
  },
  rating: {
    text: {
      en: 'How would you rate us?',
      bg: 'Как бихте ни оценили?',
      ru: 'Как бы вы нас оценили?',
      ro: 'Cum ne-ați evalua?',
      pl: 'Jak nas oceniasz?',
    },
    ends: {
      low: { en: 'Very poor', bg: 'Много слабо', ru: 'Очень плохо', ro: 'Foarte slab', pl: 'Bardzo słabo' },
      high: { en: 'Excellent', bg: 'Отлично', ru: 'Отлично', ro: 'Excelent', pl: 'Doskonale' },
    },
  },
};

/** The items of the Customer Secure Index block (satisfied, would buy again, would recommend). */
export const CSI_ITEM_WORDING: Record<CsiItem, AllTexts> = {
  satisfied: {
    en: 'Overall, I am satisfied with the company.',
    bg: 'Като цяло съм доволен/доволна от компанията.',
    ru: 'В целом я доволен/довольна компанией.',
    ro: 'În general, sunt mulțumit(ă) de companie.',
    pl: 'Ogólnie jestem zadowolony/zadowolona z firmy.',
  },
  rebuy: {
    en: 'I will buy from the company again.',
    bg: 'Ще пазарувам от компанията отново.',
    ru: 'Я снова буду покупать у этой компании.',
    ro: 'Voi cumpăra din nou de la companie.',
    pl: 'Ponownie zrobię zakupy w tej firmie.',
  },
  recommend: {
    en: 'I would recommend the company to others.',
    bg: 'Бих препоръчал/препоръчала компанията на други.',
    ru: 'Я бы порекомендовал(а) эту компанию другим.',
    ro: 'Aș recomanda compania și altora.',
    pl: 'Poleciłbym/Poleciłabym tę firmę innym.',
  },
};

/** The items of the Customer Loyalty Index block (recommend, buy again, try other products). */
export const CLI_ITEM_WORDING: Record<CliItem, AllTexts> = {
  recommend: {
    en: 'Recommend us to friends or family',
    bg: 'Да ни препоръчате на приятели или близки',
    ru: 'Порекомендовать нас друзьям или близким',
    ro: 'Să ne recomandați prietenilor sau familiei',
    pl: 'Polecić nas znajomym lub rodzinie',
  },
  buy: {
    en: 'Buy from us again',
    bg: 'Да пазарувате от нас отново',
    ru: 'Снова сделать у нас покупку',
    ro: 'Să cumpărați din nou de la noi',
    pl: 'Ponownie zrobić u nas zakupy',
  },
  try: {
    en: 'Try our other products or services',
    bg: 'Да опитате и други наши продукти или услуги',
    ru: 'Попробовать другие наши товары или услуги',
    ro: 'Să încercați și alte produse sau servicii ale noastre',
    pl: 'Wypróbować inne nasze produkty lub usługi',
  },
};

/** The wording of a standard question type; undefined for choices and text, which always carry their own. */
export function standardWording(type: QuestionType): StandardWording | undefined {
  return isStandardType(type) ? STANDARD_WORDING[type] : undefined;
}
