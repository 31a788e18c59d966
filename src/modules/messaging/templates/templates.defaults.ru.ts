/** Russian default wording (templates.defaults.ts explains the format). Formal "вы". */
import type { LanguageDefaults } from './templates.defaults.js';

const POINTS = 'plural: one: "# балл", few: "# балла", many: "# баллов", other: "# балла"';
const BONUS = 'plural: one: "# бонусный балл", few: "# бонусных балла", many: "# бонусных баллов", other: "# бонусного балла"';

export const RU: LanguageDefaults = {
  greeting: '{% if member.name != blank %}Здравствуйте, {{ member.name }}!{% else %}Здравствуйте!{% endif %}',
  signoff: 'С уважением,\nкоманда {{ program.name }}',
  messages: {
    birthday: {
      subject: 'С днём рождения{% if member.name != blank %}, {{ member.name }}{% endif %}!',
      blocks: [
        'Вся команда {{ program.name }} поздравляет вас с днём рождения и желает года, полного радостных моментов.',
        { if: 'offer.points', then: [`По этому случаю мы начислили вам **{{ offer.points | ${BONUS} }}**.`] },
        { if: 'offer.reward_name != blank', then: [
          'Наш подарок для вас: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Покажите этот код на кассе или введите его при оформлении заказа:', { code: 'offer.code' }] },
        ] },
        { button: 'Перейти в личный кабинет', href: 'links.portal' },
      ],
    },
    anniversary: {
      subject: 'Спасибо, что вы с нами ещё один год',
      blocks: [
        'Сегодня исполняется ещё один год с тех пор, как вы стали участником программы {{ program.name }}. Спасибо, что вы с нами!',
        { if: 'offer.points', then: [`В благодарность мы начислили вам **{{ offer.points | ${BONUS} }}**.`] },
        { if: 'offer.reward_name != blank', then: [
          'И небольшой подарок от нас: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Ваш код:', { code: 'offer.code' }] },
        ] },
        { if: 'points.balance > 0', then: [`Теперь на вашем счёте **{{ points.balance | ${POINTS} }}**.`] },
        { button: 'Перейти в личный кабинет', href: 'links.portal' },
      ],
    },
    points_expiring: {
      subject: '{{ points.expiring | plural: one: "# балл сгорит", few: "# балла сгорят", many: "# баллов сгорят", other: "# балла сгорят" }} {{ points.expiring_on | date }}',
      blocks: [
        `**{{ points.expiring | ${POINTS} }}** на вашем счёте {{ points.expiring | plural: one: "сгорит", other: "сгорят" }} **{{ points.expiring_on | date }}**.`,
        'Ещё есть время их использовать: выберите награду или потратьте их при следующей покупке.',
        { if: 'points.balance', then: [`Текущий баланс: {{ points.balance | ${POINTS} }}.`] },
        { button: 'Использовать баллы', href: 'links.portal' },
      ],
    },
    tier_upgraded: {
      subject: 'Добро пожаловать на уровень {{ tier.name }}!',
      blocks: [
        'Поздравляем! Теперь у вас уровень **{{ tier.name }}** в программе {{ program.name }}. Спасибо за вашу верность.',
        'Новые привилегии действуют уже сегодня.',
        { if: 'tier.next_name != blank', then: [
          'Следующий уровень — **{{ tier.next_name }}**.{% if tier.remaining != blank %} До него осталось всего {{ tier.remaining }}{% if tier.progress_percent %}, и вы уже прошли {{ tier.progress_percent }}% пути{% endif %}.{% endif %}',
        ] },
        { button: 'Посмотреть привилегии', href: 'links.portal' },
      ],
    },
    tier_at_risk: {
      subject: 'Сохраните уровень {{ tier.name }}',
      blocks: [
        'Вы совсем близко к тому, чтобы сохранить уровень **{{ tier.name }}** ещё на один период: осталось всего **{{ tier.keep_remaining }}** до **{{ tier.keep_by | date }}**.',
        'Мы будем рады и дальше встречать вас как участника уровня {{ tier.name }}.',
        { button: 'Посмотреть прогресс', href: 'links.portal' },
      ],
    },
    reward_issued: {
      subject: 'Ваша награда готова: {{ reward.name }}',
      blocks: [
        'Отличная новость: награда **{{ reward.name }}** теперь ваша.',
        { if: 'reward.code != blank', then: ['Ваш код:', { code: 'reward.code' }, 'Покажите его на кассе или введите при оформлении заказа.'] },
        { if: 'reward.expires_on != blank', then: ['Награда действует до **{{ reward.expires_on | date }}**.'] },
        { button: 'Мои награды', href: 'links.portal' },
      ],
    },
    survey_invitation: {
      subject: 'Поделитесь мнением: это займёт всего минуту',
      blocks: [
        'Нам очень важно ваше мнение. {% if survey.name != blank %}Короткий опрос «{{ survey.name }}»{% else %}Короткий опрос{% endif %} займёт всего минуту-две, а каждый ответ помогает нам становиться лучше.',
        { button: 'Пройти опрос', href: 'survey.link' },
        'Спасибо, что помогаете нам стать лучше.',
      ],
    },
    case_reply: {
      subject: 'Мы ответили на ваше обращение {{ case.reference }}',
      blocks: [
        'Мы ответили на ваше обращение **{{ case.reference }}**:',
        { quote: 'case.reply' },
        'Если вам нужно что-то ещё, свяжитесь с нами и укажите номер обращения {{ case.reference }}.',
      ],
    },
    referral_converted: {
      subject: '{% if referral.friend_name != blank %}{{ referral.friend_name }} теперь с нами{% else %}Ваш друг теперь с нами{% endif %} благодаря вам',
      blocks: [
        '{% if referral.friend_name != blank %}**{{ referral.friend_name }}** теперь участник{% else %}Друг, которого вы пригласили, теперь участник{% endif %} программы {{ program.name }}, и всё благодаря вам.',
        { if: 'referral.points', then: [`В благодарность мы начислили вам **{{ referral.points | ${POINTS} }}**.`] },
        { if: 'referral.link != blank', then: [
          'Знаете ещё кого-то, кому это понравится? Поделитесь своей ссылкой{% if referral.code != blank %} или кодом **{{ referral.code }}**{% endif %}.',
          { button: 'Пригласить друзей', href: 'referral.link' },
        ] },
      ],
    },
    win_back: {
      subject: 'Мы скучаем по вам{% if member.name != blank %}, {{ member.name }}{% endif %}',
      blocks: [
        'Мы давно вас не видели и будем очень рады встретиться снова.',
        { if: 'offer.points', then: [`Чтобы возвращение было приятнее, мы начислили вам **{{ offer.points | ${BONUS} }}**.`] },
        { if: 'offer.reward_name != blank', then: [
          'А вот подарок к вашему возвращению: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Ваш код:', { code: 'offer.code' }] },
        ] },
        { if: 'points.balance > 0', then: [`На вашем счёте по-прежнему **{{ points.balance | ${POINTS} }}**.`] },
        { button: 'Посмотреть, что нового', href: 'links.portal' },
      ],
    },
    webhook_endpoint_disabled: {
      subject: 'Вебхук отключён: {{ endpoint.url }}',
      greeting: 'Здравствуйте!',
      signoff: 'Patron',
      blocks: [
        'Patron отключил вебхук **{{ endpoint.url }}** программы {{ program.name }}: все попытки доставки на него завершаются ошибкой с **{{ endpoint.failing_since | date }}**.',
        'Новые события на него больше не отправляются. События, произошедшие, пока он отключён, для него не ставятся в очередь: после включения повторите их со status "missed".',
        'Когда получатель снова заработает, включите вебхук и повторите пропущенные доставки (см. документацию по вебхукам).',
      ],
    },
  },
};
