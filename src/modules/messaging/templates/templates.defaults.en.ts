/** English default wording (templates.defaults.ts explains the format). */
import type { LanguageDefaults } from './templates.defaults.js';

const POINTS = 'plural: one: "# point", other: "# points"';
const BONUS = 'plural: one: "# bonus point", other: "# bonus points"';

export const EN: LanguageDefaults = {
  greeting: '{% if member.name != blank %}Hi {{ member.name }},{% else %}Hello,{% endif %}',
  signoff: 'Warm regards,\nThe {{ program.name }} team',
  messages: {
    birthday: {
      subject: 'Happy birthday{% if member.name != blank %}, {{ member.name }}{% endif %}!',
      blocks: [
        'Everyone at {{ program.name }} wishes you a wonderful birthday and a year full of good things.',
        { if: 'offer.points', then: [`To celebrate, we have added **{{ offer.points | ${BONUS} }}** to your account.`] },
        { if: 'offer.reward_name != blank', then: [
          'Our gift to you: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Show this code at the till or enter it at checkout:', { code: 'offer.code' }] },
        ] },
        { button: 'Open my account', href: 'links.portal' },
      ],
    },
    anniversary: {
      subject: 'Thank you for another year with {{ program.name }}',
      blocks: [
        'Today marks another year since you joined {{ program.name }}. Thank you for being with us: it means a lot.',
        { if: 'offer.points', then: [`As a thank-you, we have added **{{ offer.points | ${BONUS} }}** to your account.`] },
        { if: 'offer.reward_name != blank', then: [
          'And a little gift from us: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Your code:', { code: 'offer.code' }] },
        ] },
        { if: 'points.balance > 0', then: [`Your balance is now **{{ points.balance | ${POINTS} }}**.`] },
        { button: 'See my account', href: 'links.portal' },
      ],
    },
    points_expiring: {
      subject: `{{ points.expiring | plural: one: "# point expires", other: "# points expire" }} on {{ points.expiring_on | date }}`,
      blocks: [
        `**{{ points.expiring | ${POINTS} }}** in your account will expire on **{{ points.expiring_on | date }}**.`,
        'There is still time to use them: treat yourself to a reward or put them towards your next purchase.',
        { if: 'points.balance', then: [`Your current balance: {{ points.balance | ${POINTS} }}.`] },
        { button: 'Use my points', href: 'links.portal' },
      ],
    },
    tier_upgraded: {
      subject: 'Welcome to {{ tier.name }}!',
      blocks: [
        'Congratulations! You are now a **{{ tier.name }}** member of {{ program.name }}. Thank you for your loyalty.',
        'Your new benefits start today.',
        { if: 'tier.next_name != blank', then: [
          'Next up: **{{ tier.next_name }}**.{% if tier.remaining != blank %} Only {{ tier.remaining }} to go{% if tier.progress_percent %}, and you are already {{ tier.progress_percent }}% of the way there{% endif %}.{% endif %}',
        ] },
        { button: 'See my benefits', href: 'links.portal' },
      ],
    },
    tier_at_risk: {
      subject: 'Keep your {{ tier.name }} status',
      blocks: [
        'You are close to keeping your **{{ tier.name }}** status for another period: just **{{ tier.keep_remaining }}** more by **{{ tier.keep_by | date }}** and it stays yours.',
        'We would love to keep treating you as a {{ tier.name }} member.',
        { button: 'See my progress', href: 'links.portal' },
      ],
    },
    reward_issued: {
      subject: 'Your reward is ready: {{ reward.name }}',
      blocks: [
        'Good news: **{{ reward.name }}** is yours.',
        { if: 'reward.code != blank', then: ['Your code:', { code: 'reward.code' }, 'Show it at the till or enter it at checkout.'] },
        { if: 'reward.expires_on != blank', then: ['It is valid until **{{ reward.expires_on | date }}**.'] },
        { button: 'View my rewards', href: 'links.portal' },
      ],
    },
    survey_invitation: {
      subject: 'How are we doing? Tell us in a minute',
      blocks: [
        'We would love to hear what you think. {% if survey.name != blank %}Our short survey “{{ survey.name }}”{% else %}Our short survey{% endif %} takes only a minute or two, and every answer helps us do better.',
        { button: 'Take the survey', href: 'survey.link' },
        'Thank you for helping us improve.',
      ],
    },
    case_reply: {
      subject: 'We have replied to your request {{ case.reference }}',
      blocks: [
        'We have replied to your request **{{ case.reference }}**:',
        { quote: 'case.reply' },
        'If you need anything else, just get in touch and mention the reference {{ case.reference }}.',
      ],
    },
    referral_converted: {
      subject: '{% if referral.friend_name != blank %}{{ referral.friend_name }} joined{% else %}Your friend joined{% endif %} thanks to you',
      blocks: [
        '{% if referral.friend_name != blank %}**{{ referral.friend_name }}**{% else %}A friend you invited{% endif %} has joined {{ program.name }} thanks to you.',
        { if: 'referral.points', then: [`As a thank-you, we have added **{{ referral.points | ${POINTS} }}** to your account.`] },
        { if: 'referral.link != blank', then: [
          'Know someone else who would enjoy it? Share your personal link{% if referral.code != blank %} or your code **{{ referral.code }}**{% endif %}.',
          { button: 'Invite more friends', href: 'referral.link' },
        ] },
      ],
    },
    win_back: {
      subject: 'We miss you{% if member.name != blank %}, {{ member.name }}{% endif %}',
      blocks: [
        'It has been a while since we last saw you at {{ program.name }}, and we would love to welcome you back.',
        { if: 'offer.points', then: [`To make it worth your while, we have added **{{ offer.points | ${BONUS} }}** to your account.`] },
        { if: 'offer.reward_name != blank', then: [
          'Here is something to welcome you back: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Your code:', { code: 'offer.code' }] },
        ] },
        { if: 'points.balance > 0', then: [`You also have **{{ points.balance | ${POINTS} }}** waiting for you.`] },
        { button: 'See what is new', href: 'links.portal' },
      ],
    },
    webhook_endpoint_disabled: {
      subject: 'Webhook endpoint disabled: {{ endpoint.url }}',
      greeting: 'Hello,',
      signoff: 'Patron',
      blocks: [
        'Patron has disabled the webhook endpoint **{{ endpoint.url }}** of {{ program.name }}: every delivery to it has failed since **{{ endpoint.failing_since | date }}**.',
        'No further events are sent to it. Events that happen while it is disabled are not queued for it: after re-enabling it, replay them with status "missed".',
        'Once the receiver works again, re-enable the endpoint and replay the deliveries it missed (see the webhooks documentation).',
      ],
    },
  },
};
