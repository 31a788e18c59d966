/**
 * The one responsive layout every email is framed in (docs/messaging/templates.md#layout). Table-based with
 * inline styles because that is what mail clients render alike (Outlook ignores most CSS); a media query widens
 * the content on phones where it is understood. Templates (defaults and a tenant's) supply only the content.
 */
import type { Locale } from '../../../platform/http/schema.js';
import type { MessageCategory } from '../messaging.types.js';

export interface LayoutFrame {
  locale: Locale;
  subject: string;
  programName: string;
  preheader: string;
  category: MessageCategory;
  audience: 'member' | 'operator';
  unsubscribe: string | null;
  portal: string | null;
}

interface FooterWords {
  member: (program: string) => string;
  marketing: (program: string) => string;
  operator: (program: string) => string;
  unsubscribe: string;
  portal: string;
}

const FOOTER: Record<Locale, FooterWords> = {
  en: {
    member: (p) => `You are receiving this message as a member of ${p}.`,
    marketing: (p) => `You are receiving this email because you agreed to hear from ${p}.`,
    operator: (p) => `This message was sent to the notification address of ${p} in Patron.`,
    unsubscribe: 'Unsubscribe from these emails',
    portal: 'Your account',
  },
  bg: {
    member: (p) => `Получавате това съобщение като член на ${p}.`,
    marketing: (p) => `Получавате този имейл, защото сте се съгласили да получавате новини от ${p}.`,
    operator: (p) => `Това съобщение е изпратено до адреса за известия на ${p} в Patron.`,
    unsubscribe: 'Отпишете се от тези имейли',
    portal: 'Вашият профил',
  },
  ru: {
    member: (p) => `Вы получили это письмо как участник программы ${p}.`,
    marketing: (p) => `Вы получили это письмо, потому что подписались на новости программы ${p}.`,
    operator: (p) => `Это письмо отправлено на адрес для уведомлений программы ${p} в Patron.`,
    unsubscribe: 'Отписаться от этих писем',
    portal: 'Личный кабинет',
  },
  ro: {
    member: (p) => `Primiți acest mesaj ca membru al programului ${p}.`,
    marketing: (p) => `Primiți acest e-mail deoarece ați acceptat să primiți noutăți de la ${p}.`,
    operator: (p) => `Acest mesaj a fost trimis la adresa de notificări a programului ${p} în Patron.`,
    unsubscribe: 'Dezabonați-vă de la aceste e-mailuri',
    portal: 'Contul meu',
  },
  pl: {
    member: (p) => `Otrzymujesz tę wiadomość jako uczestnik programu ${p}.`,
    marketing: (p) => `Otrzymujesz tę wiadomość, bo chcesz dostawać informacje z programu ${p}.`,
    operator: (p) => `Ta wiadomość została wysłana na adres powiadomień programu ${p} w Patron.`,
    unsubscribe: 'Wypisz się z tych wiadomości',
    portal: 'Moje konto',
  },
};

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
export const ACCENT = '#1f5fbf';

/** The inline style of the main link as a button; `.button` in the layout's stylesheet is the same for tenants. */
export const BUTTON_STYLE = `display:inline-block;padding:12px 24px;background:${ACCENT};color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600;font-family:${FONT}`;

function footerLines(f: LayoutFrame): { notice: string; unsubscribe: string | null } {
  const w = FOOTER[f.locale];
  const notice = f.audience === 'operator' ? w.operator(f.programName) : f.category === 'marketing' ? w.marketing(f.programName) : w.member(f.programName);
  return { notice, unsubscribe: f.category === 'marketing' && f.unsubscribe ? f.unsubscribe : null };
}

export function layoutHtml(f: LayoutFrame, content: string): string {
  const { notice, unsubscribe } = footerLines(f);
  const w = FOOTER[f.locale];
  const links: string[] = [];
  if (f.portal && f.audience === 'member') links.push(`<a href="${escapeHtml(f.portal)}" style="color:#6b7280;text-decoration:underline">${escapeHtml(w.portal)}</a>`);
  if (unsubscribe) links.push(`<a href="${escapeHtml(unsubscribe)}" style="color:#6b7280;text-decoration:underline">${escapeHtml(w.unsubscribe)}</a>`);
  return `<!DOCTYPE html>
<html lang="${f.locale}" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<title>${escapeHtml(f.subject)}</title>
<style>
  body { margin:0; padding:0; background:#f3f4f6; }
  a.button { ${BUTTON_STYLE}; }
  @media only screen and (max-width:620px) {
    .container { width:100% !important; }
    .content { padding:24px 18px !important; }
    .button-cell a { display:block !important; text-align:center !important; }
  }
</style>
</head>
<body style="margin:0;padding:0;background:#f3f4f6">
<div style="display:none;max-height:0;overflow:hidden;opacity:0;mso-hide:all">${escapeHtml(f.preheader)}&#8199;&#65279;&#847;&#8199;&#65279;&#847;&#8199;&#65279;&#847;</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f4f6">
<tr><td align="center" style="padding:24px 12px">
<table role="presentation" class="container" width="600" cellpadding="0" cellspacing="0" border="0" style="width:600px;max-width:600px;background:#ffffff;border-radius:8px">
<tr><td style="padding:20px 32px;border-bottom:1px solid #e5e7eb;font-family:${FONT};font-size:18px;font-weight:700;color:#111827">${escapeHtml(f.programName)}</td></tr>
<tr><td class="content" style="padding:32px;font-family:${FONT};font-size:16px;line-height:1.55;color:#1f2937">
${content.trim()}
</td></tr>
<tr><td style="padding:20px 32px;border-top:1px solid #e5e7eb;font-family:${FONT};font-size:12px;line-height:1.5;color:#6b7280">
<p style="margin:0 0 6px">${escapeHtml(notice)}</p>${links.length ? `\n<p style="margin:0">${links.join(' &middot; ')}</p>` : ''}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
}

export function layoutText(f: LayoutFrame, body: string): string {
  const { notice, unsubscribe } = footerLines(f);
  const w = FOOTER[f.locale];
  const lines = [body, '', '-- ', notice];
  if (f.portal && f.audience === 'member') lines.push(`${w.portal}: ${f.portal}`);
  if (unsubscribe) lines.push(`${w.unsubscribe}: ${unsubscribe}`);
  return `${lines.join('\n')}\n`;
}
