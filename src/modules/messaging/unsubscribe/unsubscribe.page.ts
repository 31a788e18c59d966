/**
 * The unsubscribe pages (docs/messaging.md#unsubscribe), in the member's language: what will happen with a button
 * (GET), the confirmation (after the POST), "already unsubscribed", and "not a valid link". Plain HTML with one
 * nonce'd style block and no script; the button posts `List-Unsubscribe=One-Click`, the body a mail client sends
 * for RFC 8058 one-click unsubscribe, so both go the same way.
 */
import type { Locale, MessageChannel } from '../messaging.types.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

interface Texts {
  /** What is withdrawn, as it reads after "no longer receive" (the case the language needs there). */
  channel: Record<MessageChannel, string>;
  confirm_title: string;
  /** {channel}, {program} */
  confirm_body: string;
  transactional_note: string;
  button: string;
  done_title: string;
  done_body: string;
  already_title: string;
  already_body: string;
  invalid_title: string;
  invalid_body: string;
}

export const UNSUBSCRIBE_TEXTS: Record<Locale, Texts> = {
  en: {
    channel: { email: 'marketing emails', sms: 'marketing text messages', push: 'marketing push notifications' },
    confirm_title: 'Unsubscribe',
    confirm_body: 'You will no longer receive {channel} from {program}.',
    transactional_note: 'Messages about your account, such as voucher codes and replies to your requests, will still reach you.',
    button: 'Unsubscribe',
    done_title: 'You are unsubscribed',
    done_body: 'You will no longer receive {channel} from {program}.',
    already_title: 'You are already unsubscribed',
    already_body: 'You do not receive {channel} from {program}.',
    invalid_title: 'This link is not valid',
    invalid_body: 'The unsubscribe link is incomplete or not valid. Check that you copied the whole link from the message.',
  },
  bg: {
    channel: { email: 'рекламни имейли', sms: 'рекламни SMS съобщения', push: 'рекламни push известия' },
    confirm_title: 'Отписване',
    confirm_body: 'Няма повече да получавате {channel} от {program}.',
    transactional_note: 'Съобщенията, свързани с вашия профил, като кодове на ваучери и отговори на ваши запитвания, ще продължат да пристигат.',
    button: 'Отпишете ме',
    done_title: 'Отписахте се',
    done_body: 'Няма повече да получавате {channel} от {program}.',
    already_title: 'Вече сте отписани',
    already_body: 'Не получавате {channel} от {program}.',
    invalid_title: 'Невалидна връзка',
    invalid_body: 'Връзката за отписване е непълна или невалидна. Проверете дали сте копирали цялата връзка от съобщението.',
  },
  ru: {
    channel: { email: 'рекламные письма', sms: 'рекламные SMS', push: 'рекламные push-уведомления' },
    confirm_title: 'Отписка от рассылки',
    confirm_body: 'Вы больше не будете получать {channel} от {program}.',
    transactional_note: 'Сообщения о вашем аккаунте, например коды ваучеров и ответы на ваши обращения, по-прежнему будут приходить.',
    button: 'Отписаться',
    done_title: 'Вы отписались',
    done_body: 'Вы больше не будете получать {channel} от {program}.',
    already_title: 'Вы уже отписаны',
    already_body: 'Вы не получаете {channel} от {program}.',
    invalid_title: 'Ссылка недействительна',
    invalid_body: 'Ссылка для отписки неполная или недействительна. Проверьте, что вы скопировали ссылку из сообщения целиком.',
  },
  ro: {
    channel: { email: 'e-mailuri de marketing', sms: 'SMS-uri de marketing', push: 'notificări push de marketing' },
    confirm_title: 'Dezabonare',
    confirm_body: 'Nu veți mai primi {channel} de la {program}.',
    transactional_note: 'Mesajele despre contul dumneavoastră, cum ar fi codurile de voucher și răspunsurile la solicitările dumneavoastră, vor continua să vă fie trimise.',
    button: 'Dezabonează-mă',
    done_title: 'V-ați dezabonat',
    done_body: 'Nu veți mai primi {channel} de la {program}.',
    already_title: 'Sunteți deja dezabonat',
    already_body: 'Nu primiți {channel} de la {program}.',
    invalid_title: 'Link nevalid',
    invalid_body: 'Linkul de dezabonare este incomplet sau nevalid. Verificați dacă ați copiat întregul link din mesaj.',
  },
  pl: {
    channel: { email: 'e-maili marketingowych', sms: 'marketingowych SMS-ów', push: 'marketingowych powiadomień push' },
    confirm_title: 'Rezygnacja z subskrypcji',
    confirm_body: 'Nie będziesz już otrzymywać {channel} od {program}.',
    transactional_note: 'Wiadomości dotyczące Twojego konta, takie jak kody voucherów i odpowiedzi na Twoje zgłoszenia, nadal będą do Ciebie docierać.',
    button: 'Wypisz mnie',
    done_title: 'Subskrypcja anulowana',
    done_body: 'Nie będziesz już otrzymywać {channel} od {program}.',
    already_title: 'Subskrypcja jest już anulowana',
    already_body: 'Nie otrzymujesz {channel} od {program}.',
    invalid_title: 'Nieprawidłowy link',
    invalid_body: 'Link do rezygnacji jest niepełny lub nieprawidłowy. Sprawdź, czy skopiowano cały link z wiadomości.',
  },
};

const CSS = `*{box-sizing:border-box}body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#f6f7f9}
main{max-width:34rem;margin:0 auto;padding:3rem 1.25rem}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1.5rem}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}p{margin:0 0 1rem}.note{color:#57606a;font-size:.9375rem}
button{min-height:48px;padding:.75rem 1.5rem;border:0;border-radius:6px;background:#0b57d0;color:#fff;font:inherit;font-weight:700;cursor:pointer}
button:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
@media(prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}.card{background:#161b22;border-color:#30363d}.note{color:#9da7b3}}`;

export type UnsubscribePageKind = 'confirm' | 'done' | 'already' | 'invalid';

export interface UnsubscribePageInput {
  kind: UnsubscribePageKind;
  locale: Locale;
  nonce: string;
  channel?: MessageChannel;
  program?: string;
}

export function renderUnsubscribePage(p: UnsubscribePageInput): string {
  const t = UNSUBSCRIBE_TEXTS[p.locale];
  const fill = (s: string) => esc(s).replace('{channel}', () => esc(t.channel[p.channel ?? 'email'])).replace('{program}', () => `<strong>${esc(p.program ?? '')}</strong>`);
  const [title, body] = p.kind === 'confirm' ? [t.confirm_title, t.confirm_body]
    : p.kind === 'done' ? [t.done_title, t.done_body]
      : p.kind === 'already' ? [t.already_title, t.already_body]
        : [t.invalid_title, t.invalid_body];
  const content = [`<h1>${esc(title)}</h1>`, `<p>${fill(body)}</p>`];
  if (p.kind === 'confirm') {
    content.push(`<p class="note">${esc(t.transactional_note)}</p>`);
    content.push(`<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">${esc(t.button)}</button></form>`);
  } else if (p.kind === 'done' || p.kind === 'already') {
    content.push(`<p class="note">${esc(t.transactional_note)}</p>`);
  }
  return `<!doctype html>
<html lang="${p.locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow"><title>${esc(title)}</title><style nonce="${esc(p.nonce)}">${CSS}</style></head>
<body><main><div class="card">
${content.join('\n')}
</div></main></body></html>`;
}
