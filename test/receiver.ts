/**
 * A webhook receiver for tests: a real node:http server on 127.0.0.1 that records every request (headers and the
 * exact body bytes) and answers as the test says: a status, or 'hang' (never answers, until closed).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  headers: Record<string, string>;
  /** The body exactly as sent. */
  body: string;
  /** The parsed body ({type, timestamp, data}). */
  json: any;
  /** What the receiver answered (null: it hung). */
  answered: number | null;
}

export type Answer = number | 'hang' | { status: number; body: string };

export interface Receiver {
  url: string;
  requests: Received[];
  /** Requests of one event type. */
  of(type: string): Received[];
  /** Decides each answer (default: 200). */
  answer: (req: Received, nth: number) => Answer;
  /** Resolves when `n` requests (in all, or matching `filter`) have arrived. */
  waitFor(n: number, filter?: (r: Received) => boolean, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(answer: Receiver['answer'] = () => 200): Promise<Receiver> {
  const requests: Received[] = [];
  const hung = new Set<http.ServerResponse>();
  const waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: any = null;
      try {
        json = JSON.parse(body);
      } catch {
        /* recorded as sent */
      }
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
      const r: Received = { headers, body, json, answered: null };
      requests.push(r);
      const a = receiver.answer(r, requests.length);
      if (a === 'hang') hung.add(res);
      else {
        const status = typeof a === 'number' ? a : a.status;
        r.answered = status;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(typeof a === 'number' ? `answer ${status}` : a.body);
      }
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hooks`,
    requests,
    of: (type) => requests.filter((r) => r.json?.type === type),
    answer,
    async waitFor(n, filter = () => true, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = requests.filter(filter);
        if (got.length >= n) return got;
        if (Date.now() > deadline) throw new Error(`the receiver got ${got.length} of ${n} requests`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

/**
 * Standard Webhooks verification with the official package, as the receiver would have done when the request was
 * sent: the package checks webhook-timestamp against the wall clock (5 minutes of tolerance), and tests send at the
 * time of their settable clock, often years ahead. Date.now is set to the request's own timestamp for the one
 * synchronous call; the signature itself is checked in full.
 */
export function verifyAsSent(secret: string, r: Pick<Received, 'body' | 'headers'>): unknown {
  const real = Date.now;
  const at = Number(r.headers['webhook-timestamp']) * 1000;
  Date.now = () => at;
  try {
    return new Webhook(secret).verify(r.body, r.headers);
  } finally {
    Date.now = real;
  }
}
