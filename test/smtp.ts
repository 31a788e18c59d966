/**
 * A real SMTP server on loopback for the tests (the `smtp-server` package): it accepts every message (no TLS, no
 * login needed), keeps what arrived (raw, and parsed with mailparser), and can refuse a recipient at RCPT TO, or the
 * message at the end of DATA, with the reply a test gives ("550 5.1.1 No such user here": a hard bounce; "554 5.7.1
 * Client host blocked": a policy refusal; 451: a temporary failure). The reply is written exactly as given
 * (smtp-server adds no enhanced status code of its own by default). One per test file.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  raw: string;
  parsed: ParsedMail;
}

export interface TestSmtp {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  url: string;
  received: ReceivedMail[];
  /** What arrived for this address (case-insensitive). */
  to(address: string): ReceivedMail[];
  /** Refuse RCPT TO of this address with `code` and `text` (until `accept`). */
  refuse(address: string, code: number, text?: string): void;
  /** Accept RCPT TO of this address but refuse the message at the end of DATA (until `accept`). */
  refuseData(address: string, code: number, text: string): void;
  accept(address: string): void;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<TestSmtp> {
  const received: ReceivedMail[] = [];
  const refused = new Map<string, { code: number; text: string }>();
  const refusedData = new Map<string, { code: number; text: string }>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const r = refused.get(address.address.toLowerCase());
      if (!r) return callback();
      return callback(Object.assign(new Error(r.text), { responseCode: r.code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const r = session.envelope.rcptTo.map((t) => refusedData.get(t.address.toLowerCase())).find(Boolean);
        if (r) return callback(Object.assign(new Error(r.text), { responseCode: r.code }));
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then((parsed) => {
          received.push({
            envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) },
            raw,
            parsed,
          });
          callback();
        }, callback);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    to: (address) => received.filter((m) => m.envelope.to.some((t) => t.toLowerCase() === address.toLowerCase())),
    refuse: (address, code, text = code >= 500 ? '5.1.1 No such user here' : '4.2.0 Try again later') => refused.set(address.toLowerCase(), { code, text }),
    refuseData: (address, code, text) => refusedData.set(address.toLowerCase(), { code, text }),
    accept: (address) => {
      refused.delete(address.toLowerCase());
      refusedData.delete(address.toLowerCase());
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
