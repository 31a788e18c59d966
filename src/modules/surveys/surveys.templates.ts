/**
 * Ready-made surveys: a relationship NPS, a post-purchase CSAT, a CES after support, a CSI + CLI block survey and the
 * case follow-up. Each is a complete survey definition in all five languages, with the touchpoint and trigger it is
 * meant for, so a marketer copies one (GET /v1/survey-templates) into POST /v1/surveys and changes what they like.
 *
 * The standard questions carry no text of their own: they show the built-in wording (surveys.wording.ts) in the
 * respondent's language. The follow-up questions ("what could we do better?") are asked only of those whose answer
 * calls for it (show_if).
 */
import type { SurveyDefinition, Texts, Touchpoint } from './surveys.types.js';

export type SurveyTrigger =
  | { type: 'after_purchase'; days: number }
  | { type: 'after_case_closed'; days: number }
  | { type: 'relationship'; every_days: number };

export interface SurveyTemplate {
  /** Stable identifier of the template. */
  key: string;
  /** What the survey is called in the admin (English: the marketer renames it). */
  name: string;
  description: string;
  touchpoint: Touchpoint;
  /** When invitations are made; null: only by API (or a closed case, for the follow-up). */
  trigger: SurveyTrigger | null;
  default_language: 'en';
  definition: SurveyDefinition;
}

const THANK_YOU: Texts = {
  en: 'Thank you for your answers! They help us serve you better.',
  bg: 'Благодарим ви за отговорите! Те ни помагат да ви обслужваме по-добре.',
  ru: 'Спасибо за ваши ответы! Они помогают нам обслуживать вас лучше.',
  ro: 'Vă mulțumim pentru răspunsuri! Ne ajută să vă servim mai bine.',
  pl: 'Dziękujemy za odpowiedzi! Pomagają nam lepiej cię obsługiwać.',
};

const WHY_SCORE: Texts = {
  en: 'What is the main reason for your score?',
  bg: 'Коя е основната причина за вашата оценка?',
  ru: 'Какова основная причина вашей оценки?',
  ro: 'Care este motivul principal al notei acordate?',
  pl: 'Jaki jest główny powód twojej oceny?',
};

const DO_BETTER: Texts = {
  en: 'What could we do better?',
  bg: 'Какво бихме могли да подобрим?',
  ru: 'Что мы могли бы сделать лучше?',
  ro: 'Ce am putea face mai bine?',
  pl: 'Co moglibyśmy poprawić?',
};

export const SURVEY_TEMPLATES: readonly SurveyTemplate[] = [
  {
    key: 'relationship_nps',
    name: 'Relationship NPS',
    description: 'Net Promoter Score of the relationship as a whole, asked of every active member twice a year; detractors and passives are asked what to improve.',
    touchpoint: 'custom',
    trigger: { type: 'relationship', every_days: 180 },
    default_language: 'en',
    definition: {
      title: { en: 'Your opinion matters', bg: 'Вашето мнение е важно', ru: 'Ваше мнение важно для нас', ro: 'Părerea dumneavoastră contează', pl: 'Twoja opinia jest dla nas ważna' },
      intro: {
        en: 'Two short questions, one minute at most.',
        bg: 'Два кратки въпроса, най-много минута.',
        ru: 'Два коротких вопроса, не больше минуты.',
        ro: 'Două întrebări scurte, cel mult un minut.',
        pl: 'Dwa krótkie pytania, najwyżej minuta.',
      },
      thank_you: THANK_YOU,
      questions: [
        { key: 'nps', type: 'nps' },
        { key: 'reason', type: 'text', text: WHY_SCORE, max_length: 2000 },
        { key: 'improve', type: 'text', text: DO_BETTER, max_length: 2000, show_if: { question: 'nps', band_in: ['detractor', 'passive'] } },
      ],
    },
  },
  {
    key: 'post_purchase_csat',
    name: 'Post-purchase CSAT',
    description: 'Customer satisfaction with a purchase, three days after it; the dissatisfied and neutral are asked what went wrong.',
    touchpoint: 'purchase',
    trigger: { type: 'after_purchase', days: 3 },
    default_language: 'en',
    definition: {
      title: { en: 'How was your purchase?', bg: 'Как мина покупката ви?', ru: 'Как прошла ваша покупка?', ro: 'Cum a fost cumpărătura?', pl: 'Jak oceniasz swoje zakupy?' },
      thank_you: THANK_YOU,
      questions: [
        {
          key: 'csat', type: 'csat',
          text: {
            en: 'How satisfied are you with your recent purchase?',
            bg: 'Колко сте доволни от последната си покупка?',
            ru: 'Насколько вы довольны своей недавней покупкой?',
            ro: 'Cât de mulțumit(ă) sunteți de cumpărătura recentă?',
            pl: 'Jak oceniasz swoje zadowolenie z ostatnich zakupów?',
          },
        },
        {
          key: 'what_wrong', type: 'multiple_choice', show_if: { question: 'csat', band_in: ['dissatisfied', 'neutral'] },
          text: {
            en: 'What disappointed you?',
            bg: 'Какво ви разочарова?',
            ru: 'Что вас разочаровало?',
            ro: 'Ce v-a dezamăgit?',
            pl: 'Co cię rozczarowało?',
          },
          required: false,
          options: [
            { key: 'product', label: { en: 'The product', bg: 'Продуктът', ru: 'Товар', ro: 'Produsul', pl: 'Produkt' } },
            { key: 'price', label: { en: 'The price', bg: 'Цената', ru: 'Цена', ro: 'Prețul', pl: 'Cena' } },
            { key: 'delivery', label: { en: 'The delivery', bg: 'Доставката', ru: 'Доставка', ro: 'Livrarea', pl: 'Dostawa' } },
            { key: 'service', label: { en: 'The service', bg: 'Обслужването', ru: 'Обслуживание', ro: 'Serviciul', pl: 'Obsługa' } },
            { key: 'other', label: { en: 'Something else', bg: 'Нещо друго', ru: 'Другое', ro: 'Altceva', pl: 'Coś innego' } },
          ],
        },
        { key: 'comment', type: 'text', text: DO_BETTER, max_length: 2000, show_if: { question: 'csat', band_in: ['dissatisfied', 'neutral'] } },
      ],
    },
  },
  {
    key: 'ces_after_support',
    name: 'CES after support',
    description: 'Customer Effort Score one day after a support case is closed; those who found it hard are asked why.',
    touchpoint: 'support_case',
    trigger: { type: 'after_case_closed', days: 1 },
    default_language: 'en',
    definition: {
      title: { en: 'About your support request', bg: 'За вашето запитване към поддръжката', ru: 'О вашем обращении в поддержку', ro: 'Despre solicitarea dumneavoastră de asistență', pl: 'Twoje zgłoszenie do obsługi klienta' },
      thank_you: THANK_YOU,
      questions: [
        { key: 'ces', type: 'ces' },
        {
          key: 'hard_part', type: 'text', max_length: 2000, show_if: { question: 'ces', band_in: ['high_effort'] },
          text: {
            en: 'What made it difficult?',
            bg: 'Кое го направи трудно?',
            ru: 'Что вызвало трудности?',
            ro: 'Ce a făcut-o dificilă?',
            pl: 'Co sprawiło trudność?',
          },
        },
      ],
    },
  },
  {
    key: 'csi_cli',
    name: 'CSI and CLI block survey',
    description: 'Customer Secure Index (satisfied, would buy again, would recommend) and Customer Loyalty Index (recommend, buy again, try other products) in one survey, once a year.',
    touchpoint: 'custom',
    trigger: { type: 'relationship', every_days: 365 },
    default_language: 'en',
    definition: {
      title: { en: 'How loyal are we to you?', bg: 'Доколко ви заслужаваме?', ru: 'Насколько мы вам подходим?', ro: 'Cât de bine vă servim?', pl: 'Jak nam idzie?' },
      thank_you: THANK_YOU,
      questions: [
        { key: 'csi', type: 'csi', scale_max: 5, top_box: 1 },
        { key: 'cli', type: 'cli' },
        {
          key: 'comment', type: 'text', max_length: 2000,
          text: {
            en: 'Anything else you would like to tell us?',
            bg: 'Има ли още нещо, което искате да ни кажете?',
            ru: 'Хотите ли вы ещё что-нибудь нам сказать?',
            ro: 'Mai doriți să ne spuneți ceva?',
            pl: 'Czy chcesz nam jeszcze coś przekazać?',
          },
        },
      ],
    },
  },
  {
    key: 'case_follow_up',
    name: 'Case follow-up',
    description: 'Asked when a case is closed with a follow-up: was the problem solved? A "no" reopens the case.',
    touchpoint: 'support_case',
    trigger: null,
    default_language: 'en',
    definition: {
      title: { en: 'Your request', bg: 'Вашето запитване', ru: 'Ваше обращение', ro: 'Solicitarea dumneavoastră', pl: 'Twoje zgłoszenie' },
      thank_you: THANK_YOU,
      questions: [
        {
          key: 'solved', type: 'single_choice',
          text: {
            en: 'Was your problem solved?',
            bg: 'Решен ли е проблемът ви?',
            ru: 'Ваша проблема решена?',
            ro: 'Problema dumneavoastră a fost rezolvată?',
            pl: 'Czy twój problem został rozwiązany?',
          },
          required: true,
          options: [
            { key: 'yes', label: { en: 'Yes', bg: 'Да', ru: 'Да', ro: 'Da', pl: 'Tak' } },
            { key: 'no', label: { en: 'No', bg: 'Не', ru: 'Нет', ro: 'Nu', pl: 'Nie' } },
          ],
        },
        {
          key: 'still_missing', type: 'text', max_length: 2000, show_if: { question: 'solved', value_in: ['no'] },
          text: {
            en: 'What is still missing?',
            bg: 'Какво още липсва?',
            ru: 'Чего ещё не хватает?',
            ro: 'Ce mai lipsește?',
            pl: 'Czego jeszcze brakuje?',
          },
        },
      ],
    },
  },
];
