/**
 * The benchmarks' SMTP server: a real `smtp-server` on 127.0.0.1 (no TLS, no login needed, like test/smtp.ts) that
 * accepts every message as soon as its DATA has arrived and keeps it raw; `parsePending` parses them with mailparser
 * once the measured phase is over. Patron waits for each answer before it records the message, so anything this server
 * did before its "250 OK" (or between two SMTP commands, on this process's one event loop) would slow Patron down and
 * be counted as Patron's time. It keeps, per message, when it was accepted and what a check needs (Message-ID, envelope and To
 * recipients, whether it has a text and an HTML part, the List-Unsubscribe headers), and how Patron used it: the
 * connections it opened, the most transactions (MAIL FROM … end of DATA) in flight at once, and their mean duration.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface SinkArrival {
  /** The Message-ID header as written, with its angle brackets (what nodemailer answers and Patron stores). */
  messageId: string;
  /** When the server accepted it (epoch ms, this process's clock). */
  at: number;
  /** RCPT TO addresses, lower-cased. */
  rcpt: string[];
  /** The To header's addresses, lower-cased. */
  to: string[];
  hasText: boolean;
  hasHtml: boolean;
  listUnsubscribe: string | null;
  listUnsubscribePost: string | null;
}

/** A header's value as written (mailparser folds the List-* headers into its own `list` object). */
function rawHeader(parsed: ParsedMail, name: string): string | null {
  const line = parsed.headerLines.find((h) => h.key === name.toLowerCase())?.line;
  return line === undefined ? null : line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
}

function addressesOf(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects.flatMap((o) => o.value.map((a) => (a.address ?? '').toLowerCase()));
}

/** A message accepted but not parsed yet. */
interface RawArrival {
  raw: Buffer;
  at: number;
  rcpt: string[];
}

export class SmtpSink {
  /** Parsed arrivals, in the order they were accepted (filled by `parsePending`). */
  readonly arrivals: SinkArrival[] = [];
  /** Messages accepted, parsed or not. */
  accepted = 0;
  /** Messages that could not be parsed, or had no Message-ID. */
  unparsable = 0;
  /** Connections Patron opened, and the most SMTP transactions that were in flight at the same time. */
  connections = 0;
  maxInFlight = 0;
  /** Sum of the transactions' durations, from MAIL FROM to the end of DATA (ms). */
  transactionMs = 0;
  private pending: RawArrival[] = [];
  /** Open transactions: session id → when its MAIL FROM arrived. */
  private readonly openTransactions = new Map<string, number>();
  private waiters: Array<() => void> = [];
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect: (_session, callback) => {
      this.connections++;
      callback();
    },
    onMailFrom: (_address, session, callback) => {
      this.openTransactions.set(session.id, performance.now());
      this.maxInFlight = Math.max(this.maxInFlight, this.openTransactions.size);
      callback();
    },
    onData: (stream, session, callback) => this.receive(stream, session, callback),
  });

  private receive(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const now = performance.now();
      this.transactionMs += now - (this.openTransactions.get(session.id) ?? now);
      this.openTransactions.delete(session.id);
      this.accepted++;
      this.pending.push({ raw: Buffer.concat(chunks), at: performance.timeOrigin + now, rcpt: session.envelope.rcptTo.map((r) => r.address.toLowerCase()) });
      callback();
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Parses what was accepted since the last call (one at a time: this runs between measured phases). */
  async parsePending(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    for (const { raw, at, rcpt } of batch) {
      let parsed: ParsedMail;
      try {
        parsed = await simpleParser(raw);
      } catch {
        this.unparsable++;
        continue;
      }
      if (!parsed.messageId) {
        this.unparsable++;
        continue;
      }
      this.arrivals.push({
        messageId: parsed.messageId, at, rcpt, to: addressesOf(parsed.to),
        hasText: typeof parsed.text === 'string' && parsed.text.trim() !== '',
        hasHtml: typeof parsed.html === 'string' && parsed.html.trim() !== '',
        listUnsubscribe: rawHeader(parsed, 'List-Unsubscribe'),
        listUnsubscribePost: rawHeader(parsed, 'List-Unsubscribe-Post'),
      });
    }
  }

  /** Listens on 127.0.0.1 (a free port); returns the SMTP_URL for Patron. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  /** Waits until `n` messages were accepted in all. */
  async waitFor(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.accepted < n) {
      if (Date.now() > deadline) throw new Error(`the SMTP server accepted ${this.accepted} of ${n} messages in ${timeoutMs / 1000} s`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
