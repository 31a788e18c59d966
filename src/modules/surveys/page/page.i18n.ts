/**
 * The response page's own words (buttons, errors, the thank-you and error pages) in every language, through i18next:
 * one instance, initialised synchronously from these resources (nothing is loaded at run time), English as the
 * fallback for a key a translation lacks, plural forms by the language's rules (Intl.PluralRules: Russian and Polish
 * have one/few/many).
 */
import i18next, { type TFunction } from 'i18next';
import { LANGUAGES, type Language } from '../surveys.types.js';

type Strings = Record<string, string>;

const en: Strings = {
  survey: 'Survey',
  required: 'required',
  optional: 'optional',
  submit: 'Send my answers',
  language: 'Language',
  editing: 'You are changing the answers you gave earlier.',
  choose_up_to: 'Choose up to {{max}}.',
  text_limit: 'Up to {{max}} characters.',
  scale_end: '{{value}} — {{label}}',
  errors_title_one: 'Please check {{count}} answer',
  errors_title_other: 'Please check {{count}} answers',
  error_required: 'Please answer this question.',
  error_invalid_choice: 'Please choose one of the options.',
  error_too_many_choices: 'Please choose at most {{max}} options.',
  error_too_long: 'Please shorten your answer to at most {{max}} characters.',
  error_invalid_text: 'Please remove the unsupported character from your answer.',
  thanks_title: 'Thank you!',
  thanks_body: 'Your answers have been saved.',
  thanks_edit: 'Change my answers',
  expired_title: 'This survey link has expired',
  expired_body: 'Thank you for wanting to answer. This link is no longer valid.',
  not_found_title: 'Survey not found',
  not_found_body: 'The link may be incomplete, or the survey is no longer available.',
  closed_title: 'This survey is closed',
  closed_body: 'Thank you for your interest. The survey no longer takes answers.',
  answered_title: 'You have already answered',
  answered_body: 'Thank you! Your answers were saved earlier and can no longer be changed.',
  too_many_title: 'Too many attempts',
  too_many_body: 'Please wait a minute and try again.',
  error_title: 'Something went wrong',
  error_body: 'Your answers could not be saved. Please try again later.',
};

const bg: Strings = {
  survey: 'Анкета',
  required: 'задължително',
  optional: 'по желание',
  submit: 'Изпращане на отговорите',
  language: 'Език',
  editing: 'Променяте отговорите, които дадохте по-рано.',
  choose_up_to: 'Изберете до {{max}}.',
  text_limit: 'До {{max}} знака.',
  scale_end: '{{value}} — {{label}}',
  errors_title_one: 'Моля, проверете {{count}} отговор',
  errors_title_other: 'Моля, проверете {{count}} отговора',
  error_required: 'Моля, отговорете на този въпрос.',
  error_invalid_choice: 'Моля, изберете един от вариантите.',
  error_too_many_choices: 'Моля, изберете най-много {{max}} варианта.',
  error_too_long: 'Моля, съкратете отговора си до {{max}} знака.',
  error_invalid_text: 'Моля, премахнете неподдържания знак от отговора си.',
  thanks_title: 'Благодарим ви!',
  thanks_body: 'Отговорите ви са записани.',
  thanks_edit: 'Промяна на отговорите',
  expired_title: 'Срокът на тази връзка към анкетата е изтекъл',
  expired_body: 'Благодарим ви, че искате да отговорите. Тази връзка вече не е валидна.',
  not_found_title: 'Анкетата не е намерена',
  not_found_body: 'Възможно е връзката да е непълна или анкетата вече да не е достъпна.',
  closed_title: 'Анкетата е затворена',
  closed_body: 'Благодарим ви за интереса. Анкетата вече не приема отговори.',
  answered_title: 'Вече сте отговорили',
  answered_body: 'Благодарим ви! Отговорите ви бяха записани по-рано и вече не могат да се променят.',
  too_many_title: 'Твърде много опити',
  too_many_body: 'Моля, изчакайте минута и опитайте отново.',
  error_title: 'Нещо се обърка',
  error_body: 'Отговорите ви не можаха да бъдат записани. Моля, опитайте отново по-късно.',
};

const ru: Strings = {
  survey: 'Опрос',
  required: 'обязательно',
  optional: 'необязательно',
  submit: 'Отправить ответы',
  language: 'Язык',
  editing: 'Вы изменяете ответы, данные ранее.',
  choose_up_to: 'Можно выбрать не более {{max}}.',
  text_limit: 'Максимум символов: {{max}}.',
  scale_end: '{{value}} — {{label}}',
  errors_title_one: 'Проверьте, пожалуйста, {{count}} ответ',
  errors_title_few: 'Проверьте, пожалуйста, {{count}} ответа',
  errors_title_many: 'Проверьте, пожалуйста, {{count}} ответов',
  errors_title_other: 'Проверьте, пожалуйста, {{count}} ответа',
  error_required: 'Пожалуйста, ответьте на этот вопрос.',
  error_invalid_choice: 'Пожалуйста, выберите один из вариантов.',
  error_too_many_choices: 'Слишком много вариантов: можно выбрать не более {{max}}.',
  error_too_long: 'Пожалуйста, сократите ответ (максимум символов: {{max}}).',
  error_invalid_text: 'Пожалуйста, удалите неподдерживаемый символ из ответа.',
  thanks_title: 'Спасибо!',
  thanks_body: 'Ваши ответы сохранены.',
  thanks_edit: 'Изменить ответы',
  expired_title: 'Срок действия ссылки на опрос истёк',
  expired_body: 'Спасибо, что хотели ответить. Эта ссылка больше не действует.',
  not_found_title: 'Опрос не найден',
  not_found_body: 'Возможно, ссылка неполная или опрос больше недоступен.',
  closed_title: 'Опрос закрыт',
  closed_body: 'Спасибо за интерес. Опрос больше не принимает ответы.',
  answered_title: 'Вы уже ответили',
  answered_body: 'Спасибо! Ваши ответы были сохранены ранее и больше не могут быть изменены.',
  too_many_title: 'Слишком много попыток',
  too_many_body: 'Пожалуйста, подождите минуту и попробуйте снова.',
  error_title: 'Что-то пошло не так',
  error_body: 'Не удалось сохранить ваши ответы. Пожалуйста, попробуйте позже.',
};

const ro: Strings = {
  survey: 'Chestionar',
  required: 'obligatoriu',
  optional: 'opțional',
  submit: 'Trimite răspunsurile',
  language: 'Limba',
  editing: 'Modificați răspunsurile date anterior.',
  choose_up_to: 'Alegeți cel mult {{max}}.',
  text_limit: 'Cel mult {{max}} de caractere.',
  scale_end: '{{value}} — {{label}}',
  errors_title_one: 'Vă rugăm să verificați {{count}} răspuns',
  errors_title_few: 'Vă rugăm să verificați {{count}} răspunsuri',
  errors_title_other: 'Vă rugăm să verificați {{count}} de răspunsuri',
  error_required: 'Vă rugăm să răspundeți la această întrebare.',
  error_invalid_choice: 'Vă rugăm să alegeți una dintre variante.',
  error_too_many_choices: 'Vă rugăm să alegeți cel mult {{max}} variante.',
  error_too_long: 'Vă rugăm să scurtați răspunsul la cel mult {{max}} de caractere.',
  error_invalid_text: 'Vă rugăm să eliminați caracterul nepermis din răspuns.',
  thanks_title: 'Vă mulțumim!',
  thanks_body: 'Răspunsurile dumneavoastră au fost salvate.',
  thanks_edit: 'Modific răspunsurile',
  expired_title: 'Linkul acestui chestionar a expirat',
  expired_body: 'Vă mulțumim că doriți să răspundeți. Acest link nu mai este valabil.',
  not_found_title: 'Chestionarul nu a fost găsit',
  not_found_body: 'Este posibil ca linkul să fie incomplet sau ca chestionarul să nu mai fie disponibil.',
  closed_title: 'Chestionarul este închis',
  closed_body: 'Vă mulțumim pentru interes. Chestionarul nu mai primește răspunsuri.',
  answered_title: 'Ați răspuns deja',
  answered_body: 'Vă mulțumim! Răspunsurile dumneavoastră au fost salvate anterior și nu mai pot fi modificate.',
  too_many_title: 'Prea multe încercări',
  too_many_body: 'Vă rugăm să așteptați un minut și să încercați din nou.',
  error_title: 'A apărut o problemă',
  error_body: 'Răspunsurile nu au putut fi salvate. Vă rugăm să încercați mai târziu.',
};

const pl: Strings = {
  survey: 'Ankieta',
  required: 'wymagane',
  optional: 'opcjonalne',
  submit: 'Wyślij odpowiedzi',
  language: 'Język',
  editing: 'Zmieniasz odpowiedzi udzielone wcześniej.',
  choose_up_to: 'Liczba opcji do wyboru: maksymalnie {{max}}.',
  text_limit: 'Maksymalnie {{max}} znaków.',
  scale_end: '{{value}} — {{label}}',
  errors_title_one: 'Sprawdź {{count}} odpowiedź',
  errors_title_few: 'Sprawdź {{count}} odpowiedzi',
  errors_title_many: 'Sprawdź {{count}} odpowiedzi',
  errors_title_other: 'Sprawdź {{count}} odpowiedzi',
  error_required: 'Odpowiedz na to pytanie.',
  error_invalid_choice: 'Wybierz jedną z opcji.',
  error_too_many_choices: 'Za dużo opcji: wybierz maksymalnie {{max}}.',
  error_too_long: 'Skróć odpowiedź do maksymalnie {{max}} znaków.',
  error_invalid_text: 'Usuń z odpowiedzi niedozwolony znak.',
  thanks_title: 'Dziękujemy!',
  thanks_body: 'Twoje odpowiedzi zostały zapisane.',
  thanks_edit: 'Zmień odpowiedzi',
  expired_title: 'Link do ankiety wygasł',
  expired_body: 'Dziękujemy za chęć udzielenia odpowiedzi. Ten link nie jest już ważny.',
  not_found_title: 'Nie znaleziono ankiety',
  not_found_body: 'Link może być niepełny albo ankieta nie jest już dostępna.',
  closed_title: 'Ankieta jest zamknięta',
  closed_body: 'Dziękujemy za zainteresowanie. Ankieta nie przyjmuje już odpowiedzi.',
  answered_title: 'Odpowiedzi zostały już udzielone',
  answered_body: 'Dziękujemy! Twoje odpowiedzi zapisaliśmy wcześniej i nie można ich już zmienić.',
  too_many_title: 'Zbyt wiele prób',
  too_many_body: 'Odczekaj minutę i spróbuj ponownie.',
  error_title: 'Coś poszło nie tak',
  error_body: 'Nie udało się zapisać odpowiedzi. Spróbuj ponownie później.',
};

export const PAGE_STRINGS: Record<Language, Strings> = { en, bg, ru, ro, pl };

/** The languages' own names, for the switcher (a name is shown in its own language, whatever the page's). */
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', bg: 'Български', ru: 'Русский', ro: 'Română', pl: 'Polski' };

const i18n = i18next.createInstance();
void i18n.init({
  initAsync: false,
  resources: Object.fromEntries(LANGUAGES.map((l) => [l, { page: PAGE_STRINGS[l] }])),
  ns: ['page'],
  defaultNS: 'page',
  supportedLngs: [...LANGUAGES],
  fallbackLng: 'en',
  // The renderer escapes every text it puts into HTML itself; i18next's own escaping would escape twice.
  interpolation: { escapeValue: false },
  showSupportNotice: false,
} as Parameters<typeof i18n.init>[0]);

export type PageT = (key: string, options?: Record<string, unknown>) => string;

/** The page's words in one language. */
export function pageT(lang: Language): PageT {
  const t: TFunction = i18n.getFixedT(lang, 'page');
  return (key, options) => String(t(key, options as never));
}
