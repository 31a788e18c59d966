/** Romanian default wording (templates.defaults.ts explains the format). Formal "dumneavoastră". */
import type { LanguageDefaults } from './templates.defaults.js';

const POINTS = 'plural: one: "# punct", few: "# puncte", other: "# de puncte"';
const BONUS = 'plural: one: "# punct bonus", few: "# puncte bonus", other: "# de puncte bonus"';

export const RO: LanguageDefaults = {
  greeting: '{% if member.name != blank %}Bună, {{ member.name }}!{% else %}Bună ziua!{% endif %}',
  signoff: 'Cu drag,\nEchipa {{ program.name }}',
  messages: {
    birthday: {
      subject: 'La mulți ani{% if member.name != blank %}, {{ member.name }}{% endif %}!',
      blocks: [
        'Întreaga echipă {{ program.name }} vă urează la mulți ani și un an plin de bucurii.',
        { if: 'offer.points', then: [`Cu această ocazie, v-am adăugat în cont **{{ offer.points | ${BONUS} }}**.`] },
        { if: 'offer.reward_name != blank', then: [
          'Cadoul nostru pentru dumneavoastră: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Prezentați acest cod la casă sau introduceți-l la finalizarea comenzii:', { code: 'offer.code' }] },
        ] },
        { button: 'Contul meu', href: 'links.portal' },
      ],
    },
    anniversary: {
      subject: 'Vă mulțumim pentru încă un an alături de {{ program.name }}',
      blocks: [
        'Astăzi se împlinește încă un an de când v-ați alăturat programului {{ program.name }}. Vă mulțumim că sunteți alături de noi!',
        { if: 'offer.points', then: [`Drept mulțumire, v-am adăugat în cont **{{ offer.points | ${BONUS} }}**.`] },
        { if: 'offer.reward_name != blank', then: [
          'Și un mic cadou din partea noastră: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Codul dumneavoastră:', { code: 'offer.code' }] },
        ] },
        { if: 'points.balance > 0', then: [`Acum aveți în cont **{{ points.balance | ${POINTS} }}**.`] },
        { button: 'Vedeți contul', href: 'links.portal' },
      ],
    },
    points_expiring: {
      subject: '{{ points.expiring | plural: one: "# punct expiră", few: "# puncte expiră", other: "# de puncte expiră" }} pe {{ points.expiring_on | date }}',
      blocks: [
        `**{{ points.expiring | ${POINTS} }}** din contul dumneavoastră {{ points.expiring | plural: one: "va expira", other: "vor expira" }} pe **{{ points.expiring_on | date }}**.`,
        'Mai aveți timp să le folosiți: alegeți o recompensă sau folosiți-le la următoarea cumpărătură.',
        { if: 'points.balance', then: [`Soldul actual: {{ points.balance | ${POINTS} }}.`] },
        { button: 'Folosiți punctele', href: 'links.portal' },
      ],
    },
    tier_upgraded: {
      subject: 'Bine ați venit la nivelul {{ tier.name }}!',
      blocks: [
        'Felicitări! Acum sunteți membru **{{ tier.name }}** al programului {{ program.name }}. Vă mulțumim pentru fidelitate.',
        'Noile beneficii sunt active începând de astăzi.',
        { if: 'tier.next_name != blank', then: [
          'Următorul nivel: **{{ tier.next_name }}**.{% if tier.remaining != blank %} Mai aveți doar {{ tier.remaining }}{% if tier.progress_percent %} și ați parcurs deja {{ tier.progress_percent }}% din drum{% endif %}.{% endif %}',
        ] },
        { button: 'Vedeți beneficiile', href: 'links.portal' },
      ],
    },
    tier_at_risk: {
      subject: 'Păstrați-vă nivelul {{ tier.name }}',
      blocks: [
        'Sunteți foarte aproape să vă păstrați nivelul **{{ tier.name }}** încă o perioadă: mai aveți nevoie doar de **{{ tier.keep_remaining }}** până pe **{{ tier.keep_by | date }}**.',
        'Ne-ar bucura să vă răsfățăm în continuare cu beneficiile nivelului {{ tier.name }}.',
        { button: 'Vedeți progresul', href: 'links.portal' },
      ],
    },
    reward_issued: {
      subject: 'Recompensa dumneavoastră este gata: {{ reward.name }}',
      blocks: [
        'Vești bune: recompensa **{{ reward.name }}** este a dumneavoastră.',
        { if: 'reward.code != blank', then: ['Codul dumneavoastră:', { code: 'reward.code' }, 'Prezentați-l la casă sau introduceți-l la finalizarea comenzii.'] },
        { if: 'reward.expires_on != blank', then: ['Este valabilă până pe **{{ reward.expires_on | date }}**.'] },
        { button: 'Recompensele mele', href: 'links.portal' },
      ],
    },
    survey_invitation: {
      subject: 'Cum ne descurcăm? Spuneți-ne într-un minut',
      blocks: [
        'Ne-ar plăcea să aflăm părerea dumneavoastră. {% if survey.name != blank %}Scurtul nostru chestionar „{{ survey.name }}”{% else %}Scurtul nostru chestionar{% endif %} durează doar un minut sau două, iar fiecare răspuns ne ajută să devenim mai buni.',
        { button: 'Completați chestionarul', href: 'survey.link' },
        'Vă mulțumim că ne ajutați să ne îmbunătățim.',
      ],
    },
    case_reply: {
      subject: 'Am răspuns solicitării dumneavoastră {{ case.reference }}',
      blocks: [
        'Am răspuns solicitării dumneavoastră **{{ case.reference }}**:',
        { quote: 'case.reply' },
        'Dacă mai aveți nevoie de ceva, contactați-ne și menționați referința {{ case.reference }}.',
      ],
    },
    referral_converted: {
      subject: '{% if referral.friend_name != blank %}{{ referral.friend_name }} s-a alăturat{% else %}Un prieten s-a alăturat{% endif %} programului datorită dumneavoastră',
      blocks: [
        '{% if referral.friend_name != blank %}**{{ referral.friend_name }}**{% else %}Un prieten pe care l-ați invitat{% endif %} s-a alăturat programului {{ program.name }} datorită dumneavoastră.',
        { if: 'referral.points', then: [`Drept mulțumire, v-am adăugat în cont **{{ referral.points | ${POINTS} }}**.`] },
        { if: 'referral.link != blank', then: [
          'Mai cunoașteți pe cineva căruia i-ar plăcea? Trimiteți-i linkul dumneavoastră personal{% if referral.code != blank %} sau codul **{{ referral.code }}**{% endif %}.',
          { button: 'Invitați mai mulți prieteni', href: 'referral.link' },
        ] },
      ],
    },
    win_back: {
      subject: 'Ne este dor de dumneavoastră{% if member.name != blank %}, {{ member.name }}{% endif %}',
      blocks: [
        'Nu v-am mai văzut de ceva vreme la {{ program.name }} și ne-am bucura să vă revedem.',
        { if: 'offer.points', then: [`Ca să merite, v-am adăugat în cont **{{ offer.points | ${BONUS} }}**.`] },
        { if: 'offer.reward_name != blank', then: [
          'Iată și un cadou de bun venit înapoi: **{{ offer.reward_name }}**.',
          { if: 'offer.code != blank', then: ['Codul dumneavoastră:', { code: 'offer.code' }] },
        ] },
        { if: 'points.balance > 0', then: [`În plus, aveți în cont **{{ points.balance | ${POINTS} }}**.`] },
        { button: 'Vedeți ce este nou', href: 'links.portal' },
      ],
    },
    webhook_endpoint_disabled: {
      subject: 'Endpoint de webhook dezactivat: {{ endpoint.url }}',
      greeting: 'Bună ziua!',
      signoff: 'Patron',
      blocks: [
        'Patron a dezactivat endpointul de webhook **{{ endpoint.url }}** al programului {{ program.name }}: toate livrările către el eșuează din **{{ endpoint.failing_since | date }}**.',
        'Nu i se mai trimit evenimente. Evenimentele petrecute cât timp este dezactivat nu sunt puse în coadă pentru el: după reactivare, retrimiteți-le cu status "missed".',
        'După ce receptorul funcționează din nou, reactivați endpointul și retrimiteți livrările ratate (consultați documentația despre webhookuri).',
      ],
    },
  },
};
