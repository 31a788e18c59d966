/** Polish default wording (templates.defaults.ts explains the format). Informal "Ty", capitalised as in letters. */
import type { LanguageDefaults } from './templates.defaults.js';

const POINTS = 'plural: one: "# punkt", few: "# punkty", many: "# punktów", other: "# punktu"';
const BONUS = 'plural: one: "# punkt bonusowy", few: "# punkty bonusowe", many: "# punktów bonusowych", other: "# punktu bonusowego"';

export const PL: LanguageDefaults = {
  greeting: '{% if member.name != blank %}Cześć {{ member.name }}!{% else %}Cześć!{% endif %}',
  signoff: 'Pozdrawiamy serdecznie,\nzespół {{ program.name }}',
  messages: {
    birthday: {
      subject: 'Wszystkiego najlepszego{% if member.name != blank %}, {{ member.name }}{% endif %}!',
      blocks: [
        'Cały zespół {{ program.name }} życzy Ci wspaniałych urodzin i roku pełnego dobrych chwil.',
        { if: 'offer.points', then: [`Z tej okazji dodaliśmy do Twojego konta **{{ offer.points | ${BONUS} }}**.`] },
        { if: 'offer.reward_name != blank', then: [
          'Nasz prezent dla Ciebie: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Pokaż ten kod przy kasie lub wpisz go przy składaniu zamówienia:', { code: 'offer.code' }] },
        ] },
        { button: 'Przejdź do konta', href: 'links.portal' },
      ],
    },
    anniversary: {
      subject: 'Dziękujemy za kolejny rok w programie {{ program.name }}',
      blocks: [
        'Dziś mija kolejny rok Twojego udziału w programie {{ program.name }}. Dziękujemy, że jesteś z nami!',
        { if: 'offer.points', then: [`W podziękowaniu dodaliśmy do Twojego konta **{{ offer.points | ${BONUS} }}**.`] },
        { if: 'offer.reward_name != blank', then: [
          'I mały prezent od nas: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Twój kod:', { code: 'offer.code' }] },
        ] },
        { if: 'points.balance > 0', then: [`Masz teraz na koncie **{{ points.balance | ${POINTS} }}**.`] },
        { button: 'Zobacz swoje konto', href: 'links.portal' },
      ],
    },
    points_expiring: {
      subject: '{{ points.expiring | plural: one: "# punkt wygasa", few: "# punkty wygasają", many: "# punktów wygasa", other: "# punktu wygasa" }} {{ points.expiring_on | date }}',
      blocks: [
        `**{{ points.expiring | ${POINTS} }}** na Twoim koncie {{ points.expiring | plural: one: "wygaśnie", few: "wygasną", other: "wygaśnie" }} **{{ points.expiring_on | date }}**.`,
        'Masz jeszcze czas, by je wykorzystać: wybierz nagrodę albo użyj ich przy następnych zakupach.',
        { if: 'points.balance', then: [`Aktualne saldo: {{ points.balance | ${POINTS} }}.`] },
        { button: 'Wykorzystaj punkty', href: 'links.portal' },
      ],
    },
    tier_upgraded: {
      subject: 'Witamy na poziomie {{ tier.name }}!',
      blocks: [
        'Gratulacje! Masz teraz poziom **{{ tier.name }}** w programie {{ program.name }}. Dziękujemy za Twoją lojalność.',
        'Nowe korzyści obowiązują już od dziś.',
        { if: 'tier.next_name != blank', then: [
          'Następny poziom: **{{ tier.next_name }}**.{% if tier.remaining != blank %} Brakuje Ci tylko {{ tier.remaining }}{% if tier.progress_percent %}, a {{ tier.progress_percent }}% drogi masz już za sobą{% endif %}.{% endif %}',
        ] },
        { button: 'Zobacz swoje korzyści', href: 'links.portal' },
      ],
    },
    tier_at_risk: {
      subject: 'Zachowaj poziom {{ tier.name }}',
      blocks: [
        'Niewiele brakuje, by poziom **{{ tier.name }}** został z Tobą na kolejny okres: wystarczy jeszcze **{{ tier.keep_remaining }}** do **{{ tier.keep_by | date }}**.',
        'Chcemy, by korzyści poziomu {{ tier.name }} zostały z Tobą.',
        { button: 'Zobacz swoje postępy', href: 'links.portal' },
      ],
    },
    reward_issued: {
      subject: 'Twoja nagroda czeka: {{ reward.name }}',
      blocks: [
        'Dobra wiadomość: nagroda **{{ reward.name }}** jest Twoja.',
        { if: 'reward.code != blank', then: ['Twój kod:', { code: 'reward.code' }, 'Pokaż go przy kasie lub wpisz przy składaniu zamówienia.'] },
        { if: 'reward.expires_on != blank', then: ['Nagroda jest ważna do **{{ reward.expires_on | date }}**.'] },
        { button: 'Moje nagrody', href: 'links.portal' },
      ],
    },
    survey_invitation: {
      subject: 'Jak nam idzie? Powiedz nam w minutę',
      blocks: [
        'Chcemy poznać Twoje zdanie. {% if survey.name != blank %}Krótka ankieta „{{ survey.name }}”{% else %}Krótka ankieta{% endif %} zajmie tylko minutę lub dwie, a każda odpowiedź pomaga nam działać lepiej.',
        { button: 'Wypełnij ankietę', href: 'survey.link' },
        'Dziękujemy, że pomagasz nam się rozwijać.',
      ],
    },
    case_reply: {
      subject: 'Odpowiedzieliśmy na Twoje zgłoszenie {{ case.reference }}',
      blocks: [
        'Odpowiedzieliśmy na Twoje zgłoszenie **{{ case.reference }}**:',
        { quote: 'case.reply' },
        'Jeśli potrzebujesz czegoś jeszcze, skontaktuj się z nami i podaj numer zgłoszenia {{ case.reference }}.',
      ],
    },
    referral_converted: {
      subject: '{% if referral.friend_name != blank %}{{ referral.friend_name }} jest z nami dzięki Tobie{% else %}Twoje zaproszenie zadziałało{% endif %}',
      blocks: [
        '{% if referral.friend_name != blank %}**{{ referral.friend_name }}** jest już w programie {{ program.name }} dzięki Twojemu zaproszeniu.{% else %}Dzięki Twojemu zaproszeniu program {{ program.name }} ma nowego uczestnika.{% endif %}',
        { if: 'referral.points', then: [`W podziękowaniu dodaliśmy do Twojego konta **{{ referral.points | ${POINTS} }}**.`] },
        { if: 'referral.link != blank', then: [
          'Znasz jeszcze kogoś, komu się spodoba? Udostępnij swój osobisty link{% if referral.code != blank %} lub kod **{{ referral.code }}**{% endif %}.',
          { button: 'Zaproś znajomych', href: 'referral.link' },
        ] },
      ],
    },
    win_back: {
      subject: 'Tęsknimy za Tobą{% if member.name != blank %}, {{ member.name }}{% endif %}',
      blocks: [
        'Dawno się nie widzieliśmy, a bardzo chętnie znów Cię ugościmy.',
        { if: 'offer.points', then: [`Na dobry początek dodaliśmy do Twojego konta **{{ offer.points | ${BONUS} }}**.`] },
        { if: 'offer.reward_name != blank', then: [
          'Mamy też dla Ciebie prezent na powitanie: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Twój kod:', { code: 'offer.code' }] },
        ] },
        { if: 'points.balance > 0', then: [`Masz też na koncie **{{ points.balance | ${POINTS} }}**.`] },
        { button: 'Zobacz, co nowego', href: 'links.portal' },
      ],
    },
    webhook_endpoint_disabled: {
      subject: 'Webhook wyłączony: {{ endpoint.url }}',
      greeting: 'Dzień dobry,',
      signoff: 'Patron',
      blocks: [
        'Patron wyłączył webhook **{{ endpoint.url }}** programu {{ program.name }}: wszystkie próby doręczenia kończą się błędem od **{{ endpoint.failing_since | date }}**.',
        'Nie są do niego wysyłane kolejne zdarzenia. Zdarzenia, które wystąpią, gdy jest wyłączony, nie są dla niego kolejkowane: po ponownym włączeniu ponów je ze statusem "missed".',
        'Gdy odbiorca znów zacznie działać, włącz webhook ponownie i ponów pominięte doręczenia (zobacz dokumentację webhooków).',
      ],
    },
  },
};
