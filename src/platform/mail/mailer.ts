/**
 * Outgoing email over SMTP (nodemailer, a pooled transport from SMTP_URL). `send` never throws for what the SMTP
 * server answers: it says whether the message was accepted, or how it failed (`classify`):
 *
 *  - `hard_bounce`: the mailbox or domain does not exist (a 5xx to RCPT TO with enhanced status 5.1.x or 5.2.1, or
 *    a plain 550/551/553 without an enhanced code that does not speak of policy). Only this may suppress the address.
 *  - `rejected`: refused for good, but for a reason about the sender or the content, not the address (5.7.x
 *    policy: a blocklisted IP, relaying denied, DMARC; any other 5xx to RCPT TO; any 5xx to DATA). The message
 *    fails; the address stays usable, since suppressing it would cut the member off for the sender's fault.
 *  - `temporary`: may be tried again (4xx, a refused or dropped connection, a timeout, a 5xx to the session itself
 *    such as AUTH or MAIL FROM, which is the operator's to fix).
 *
 * Without SMTP_URL it says so, and nothing is sent.
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

export type SendFailure = 'hard_bounce' | 'rejected' | 'temporary';

export type SendOutcome =
  | { ok: true; messageId: string }
  | { ok: false; notConfigured?: false; failure: SendFailure; code?: number; error: string }
  | { ok: false; notConfigured: true; failure: 'temporary'; error: 'smtp_not_configured' };

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

/** `550 5.1.1 …` / `550-5.1.1 …`: the enhanced status code (RFC 3463) after the reply code, if any. */
const ENHANCED = /^\d{3}[ -]([245])\.(\d{1,3})\.(\d{1,3})(?!\d)/;
/** Words of a policy refusal in a plain reply without an enhanced code ("550 Relaying denied", "550 Blocked by RBL"). */
const POLICY_WORDS = /relay|block|black ?list|spam|policy|reputation|denied|not authori[sz]ed|rbl/i;

/** How an SMTP failure counts (see the top of this file). */
export function classify(err: unknown): Extract<SendOutcome, { ok: false; notConfigured?: false }> {
  const e = (err ?? {}) as SmtpError;
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const reply = (e.response ?? '').toString().trim();
  const detail = (reply || e.message || String(err)).toString().slice(0, 1000);
  let failure: SendFailure = 'temporary';
  if (code !== undefined && code >= 500 && code < 600) {
    if (e.command === 'DATA') failure = 'rejected';
    else if (e.command === 'RCPT TO') {
      const enhanced = ENHANCED.exec(reply);
      if (enhanced) failure = enhanced[1] === '5' && (enhanced[2] === '1' || (enhanced[2] === '2' && enhanced[3] === '1')) ? 'hard_bounce' : 'rejected';
      else failure = [550, 551, 553].includes(code) && !POLICY_WORDS.test(reply.slice(3)) ? 'hard_bounce' : 'rejected';
    }
  }
  return { ok: false, failure, ...(code !== undefined ? { code } : {}), error: e.command ? `${e.command}: ${detail}` : detail };
}

/** SMTP connections the pooled transport keeps open at most: what a sender can have in flight at once. */
export const SMTP_CONNECTIONS = 5;

export function createMailer(opts: { smtpUrl: string | undefined; log: Logger }): Mailer {
  if (!opts.smtpUrl) {
    return {
      configured: false,
      send: async () => ({ ok: false, notConfigured: true, failure: 'temporary', error: 'smtp_not_configured' }),
      close: async () => undefined,
    };
  }
  const transport = nodemailer.createTransport({
    url: opts.smtpUrl,
    pool: true,
    maxConnections: SMTP_CONNECTIONS,
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
        opts.log.warn({ err, failure: outcome.failure, code: outcome.code }, 'SMTP send failed');
        return outcome;
      }
    },
    async close() {
      transport.close();
    },
  };
}
