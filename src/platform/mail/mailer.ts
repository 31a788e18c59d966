/**
 * Outgoing email over SMTP (nodemailer, a pooled transport from SMTP_URL). `send` never throws for what the SMTP
 * server answers: it says whether the message was accepted, refused for good (a hard bounce: a 5xx to RCPT TO or
 * to DATA, i.e. about this recipient or this message) or may be tried again (4xx, a refused or dropped connection,
 * a timeout, a 5xx to the session itself such as AUTH or MAIL FROM, which is the operator's to fix). Without
 * SMTP_URL it says so, and nothing is sent.
 */
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';

export interface OutgoingMail {
  from: { name: string; address: string };
  to: string;
  replyTo?: string | null;
  subject: string;
  html: string;
  text: string;
  /** Extra headers, written as given (no folding or encoding): List-Unsubscribe … */
  headers?: Record<string, string>;
}

export type SendOutcome =
  | { ok: true; messageId: string }
  /** `permanent`: the server refused this recipient or message for good (a hard bounce). */
  | { ok: false; notConfigured?: false; permanent: boolean; code?: number; error: string }
  | { ok: false; notConfigured: true; permanent: false; error: 'smtp_not_configured' };

export interface Mailer {
  /** Whether SMTP_URL is set. */
  readonly configured: boolean;
  send(mail: OutgoingMail): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** What nodemailer's SMTP errors carry (smtp-connection `_formatError`). */
interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  command?: string;
  response?: string;
}

/** The commands whose 5xx concern the recipient or the message, not the session. */
const RECIPIENT_COMMANDS = new Set(['RCPT TO', 'DATA']);

/** How an SMTP failure counts: a hard bounce only for a 5xx about the recipient or the message. */
export function classify(err: unknown): Extract<SendOutcome, { ok: false; notConfigured?: false }> {
  const e = (err ?? {}) as SmtpError;
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const permanent = code !== undefined && code >= 500 && code < 600 && RECIPIENT_COMMANDS.has(e.command ?? '');
  const detail = (e.response ?? e.message ?? String(err)).toString().slice(0, 1000);
  return { ok: false, permanent, ...(code !== undefined ? { code } : {}), error: e.command ? `${e.command}: ${detail}` : detail };
}

export function createMailer(opts: { smtpUrl: string | undefined; log: Logger }): Mailer {
  if (!opts.smtpUrl) {
    return {
      configured: false,
      send: async () => ({ ok: false, notConfigured: true, permanent: false, error: 'smtp_not_configured' }),
      close: async () => undefined,
    };
  }
  const transport = nodemailer.createTransport({
    url: opts.smtpUrl,
    pool: true,
    maxConnections: 5,
    // Shorter than nodemailer's defaults (2 and 10 minutes): a stuck server must not hold a sending lease for long.
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
  });
  return {
    configured: true,
    async send(mail) {
      try {
        const headers: Record<string, { prepared: true; value: string }> = {};
        for (const [k, v] of Object.entries(mail.headers ?? {})) headers[k] = { prepared: true, value: v };
        const info = await transport.sendMail({
          from: { name: mail.from.name, address: mail.from.address },
          to: mail.to,
          ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
          subject: mail.subject,
          html: mail.html,
          text: mail.text,
          headers,
        });
        return { ok: true, messageId: info.messageId };
      } catch (err) {
        const outcome = classify(err);
        opts.log.warn({ err, permanent: outcome.permanent, code: outcome.code }, 'SMTP send failed');
        return outcome;
      }
    },
    async close() {
      transport.close();
    },
  };
}
