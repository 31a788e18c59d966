/** Bulgarian default wording (templates.defaults.ts explains the format). Formal address, "Вие" capitalised. */
import type { LanguageDefaults } from './templates.defaults.js';

const POINTS = 'plural: one: "# точка", other: "# точки"';
const BONUS = 'plural: one: "# бонус точка", other: "# бонус точки"';

export const BG: LanguageDefaults = {
  greeting: '{% if member.name != blank %}Здравейте, {{ member.name }}!{% else %}Здравейте!{% endif %}',
  signoff: 'Поздрави,\nЕкипът на {{ program.name }}',
  messages: {
    birthday: {
      subject: 'Честит рожден ден{% if member.name != blank %}, {{ member.name }}{% endif %}!',
      blocks: [
        'Целият екип на {{ program.name }} Ви желае прекрасен рожден ден и година, пълна с хубави мигове.',
        { if: 'offer.points', then: [`По този повод добавихме **{{ offer.points | ${BONUS} }}** към Вашия профил.`] },
        { if: 'offer.reward_name != blank', then: [
          'Нашият подарък за Вас: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Покажете този код на касата или го въведете при поръчка:', { code: 'offer.code' }] },
        ] },
        { button: 'Към моя профил', href: 'links.portal' },
      ],
    },
    anniversary: {
      subject: 'Благодарим Ви за още една година с {{ program.name }}',
      blocks: [
        'Днес се навършва още една година, откакто се присъединихте към {{ program.name }}. Благодарим Ви, че сте с нас!',
        { if: 'offer.points', then: [`В знак на благодарност добавихме **{{ offer.points | ${BONUS} }}** към Вашия профил.`] },
        { if: 'offer.reward_name != blank', then: [
          'И малък подарък от нас: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Вашият код:', { code: 'offer.code' }] },
        ] },
        { if: 'points.balance > 0', then: [`Вече имате **{{ points.balance | ${POINTS} }}**.`] },
        { button: 'Към моя профил', href: 'links.portal' },
      ],
    },
    points_expiring: {
      subject: '{{ points.expiring | plural: one: "# точка изтича", other: "# точки изтичат" }} на {{ points.expiring_on | date }}',
      blocks: [
        `**{{ points.expiring | ${POINTS} }}** от Вашия профил {{ points.expiring | plural: one: "ще изтече", other: "ще изтекат" }} на **{{ points.expiring_on | date }}**.`,
        'Все още има време: изберете си награда или ги използвайте при следващата си покупка.',
        { if: 'points.balance', then: [`Текущ баланс: {{ points.balance | ${POINTS} }}.`] },
        { button: 'Използвайте точките си', href: 'links.portal' },
      ],
    },
    tier_upgraded: {
      subject: 'Добре дошли в ниво {{ tier.name }}!',
      blocks: [
        'Поздравления! Вече сте член с ниво **{{ tier.name }}** в {{ program.name }}. Благодарим Ви за лоялността.',
        'Новите Ви предимства важат още от днес.',
        { if: 'tier.next_name != blank', then: [
          'Следващото ниво е **{{ tier.next_name }}**.{% if tier.remaining != blank %} Остават Ви само {{ tier.remaining }}{% if tier.progress_percent %}, а вече сте изминали {{ tier.progress_percent }}% от пътя{% endif %}.{% endif %}',
        ] },
        { button: 'Вижте предимствата си', href: 'links.portal' },
      ],
    },
    tier_at_risk: {
      subject: 'Запазете нивото си {{ tier.name }}',
      blocks: [
        'Съвсем близо сте до това да запазите нивото си **{{ tier.name }}** и за следващия период: още само **{{ tier.keep_remaining }}** до **{{ tier.keep_by | date }}** и то остава Ваше.',
        'Ще се радваме да продължим да Ви посрещаме като член с ниво {{ tier.name }}.',
        { button: 'Вижте напредъка си', href: 'links.portal' },
      ],
    },
    reward_issued: {
      subject: 'Наградата Ви е готова: {{ reward.name }}',
      blocks: [
        'Добра новина: наградата **{{ reward.name }}** вече е Ваша.',
        { if: 'reward.code != blank', then: ['Вашият код:', { code: 'reward.code' }, 'Покажете го на касата или го въведете при поръчка.'] },
        { if: 'reward.expires_on != blank', then: ['Валидна е до **{{ reward.expires_on | date }}**.'] },
        { button: 'Вижте наградите си', href: 'links.portal' },
      ],
    },
    survey_invitation: {
      subject: 'Как се справяме? Кажете ни за минута',
      blocks: [
        'Ще се радваме да чуем мнението Ви. {% if survey.name != blank %}Краткото ни проучване „{{ survey.name }}“{% else %}Краткото ни проучване{% endif %} отнема само минута-две, а всеки отговор ни помага да ставаме по-добри.',
        { button: 'Попълнете проучването', href: 'survey.link' },
        'Благодарим Ви, че ни помагате да се подобряваме.',
      ],
    },
    case_reply: {
      subject: 'Отговорихме на Вашето запитване {{ case.reference }}',
      blocks: [
        'Отговорихме на Вашето запитване **{{ case.reference }}**:',
        { quote: 'case.reply' },
        'Ако имате нужда от още нещо, свържете се с нас и посочете номер {{ case.reference }}.',
      ],
    },
    referral_converted: {
      subject: '{% if referral.friend_name != blank %}{{ referral.friend_name }} се присъедини{% else %}Ваш приятел се присъедини{% endif %} благодарение на Вас',
      blocks: [
        '{% if referral.friend_name != blank %}**{{ referral.friend_name }}**{% else %}Приятел, когото поканихте,{% endif %} се присъедини към {{ program.name }} благодарение на Вас.',
        { if: 'referral.points', then: [`В знак на благодарност добавихме **{{ referral.points | ${POINTS} }}** към Вашия профил.`] },
        { if: 'referral.link != blank', then: [
          'Познавате ли още някого, на когото ще му хареса? Споделете личния си линк{% if referral.code != blank %} или кода си **{{ referral.code }}**{% endif %}.',
          { button: 'Поканете още приятели', href: 'referral.link' },
        ] },
      ],
    },
    win_back: {
      subject: 'Липсвате ни{% if member.name != blank %}, {{ member.name }}{% endif %}',
      blocks: [
        'Отдавна не сме се виждали и ще се радваме да Ви посрещнем отново в {{ program.name }}.',
        { if: 'offer.points', then: [`За добре дошли обратно добавихме **{{ offer.points | ${BONUS} }}** към Вашия профил.`] },
        { if: 'offer.reward_name != blank', then: [
          'Приготвихме Ви и подарък: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Вашият код:', { code: 'offer.code' }] },
        ] },
        { if: 'points.balance > 0', then: [`Освен това в профила си имате **{{ points.balance | ${POINTS} }}**.`] },
        { button: 'Вижте какво ново', href: 'links.portal' },
      ],
    },
    webhook_endpoint_disabled: {
      subject: 'Деактивиран webhook адрес: {{ endpoint.url }}',
      greeting: 'Здравейте!',
      signoff: 'Patron',
      blocks: [
        'Patron деактивира webhook адреса **{{ endpoint.url }}** на {{ program.name }}: всички опити за доставка до него са неуспешни от **{{ endpoint.failing_since | date }}**.',
        'Към него вече не се изпращат събития. Събитията, настъпили докато е деактивиран, не се подреждат за него: след като го активирате отново, изпратете ги повторно със status "missed".',
        'Когато получателят заработи отново, активирайте адреса и изпратете повторно пропуснатите доставки (вижте документацията за webhooks).',
      ],
    },
  },
};
