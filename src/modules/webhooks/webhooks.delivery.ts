/**
 * One HTTP attempt of a webhook: POST the body with its headers, wait at most `timeoutMs` for the answer, and keep
 * the status, the time it took and the first 2 KB of the answer for the delivery log. Redirects are not followed (a
 * 3xx is a failed attempt: the endpoint's URL should be the final one). Never throws: a refused connection, a reset,
 * a timeout or a refused private address is an attempt with no status code and an error.
 *
 * node:http rather than fetch: the socket must connect to the address our own lookup checked (webhooks.addresses.ts),
 * which fetch (undici) does not let us give without a dependency.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { isPrivateAddress, PrivateAddressError, publicOnlyLookup } from './webhooks.addresses.js';

/** The most of a receiver's answer kept in the delivery log. */
export const RESPONSE_EXCERPT_BYTES = 2048;

export interface AttemptResult {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
}

// Connections are kept alive between attempts; a separate pool per setting, so that a socket opened where private
// addresses are allowed is never reused where they are not (tests run both in one process).
const agents = {
  open: { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) },
  publicOnly: { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) },
};

export function postWebhook(
  url: string, headers: Record<string, string>, body: string, timeoutMs: number, opts: { allowPrivateNetworks: boolean },
): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.max(0, Math.round(performance.now() - started));
  return new Promise<AttemptResult>((resolve) => {
    let statusCode: number | null = null;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (r: Omit<AttemptResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, durationMs: elapsed() });
    };
    const failed = (err: unknown) => finish(statusCode === null
      ? { statusCode: null, error: messageOf(err), responseBody: null }
      // The status counts even when the body could not be read to its 2 KB (a slow or broken answer).
      : { statusCode, error: `reading the answer: ${messageOf(err)}`, responseBody: null });

    let u: URL;
    try {
      u = new URL(url);
    } catch (err) {
      return failed(err);
    }
    const protocol = u.protocol === 'https:' ? 'https:' : 'http:';
    // A literal address is connected to without a lookup, so it is checked here; names are checked by the lookup.
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!opts.allowPrivateNetworks && net.isIP(host) && isPrivateAddress(host)) return failed(new PrivateAddressError(host, host));

    const request = (protocol === 'https:' ? https : http).request(u, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      agent: (opts.allowPrivateNetworks ? agents.open : agents.publicOnly)[protocol],
      ...(opts.allowPrivateNetworks ? {} : { lookup: publicOnlyLookup }),
    }, (res) => {
      statusCode = res.statusCode ?? null;
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const bytes = Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES);
        // A cut in the middle of a UTF-8 character leaves a replacement character, and PostgreSQL text refuses NUL.
        finish({ statusCode, error: null, responseBody: size === 0 ? null : bytes.toString('utf8').replace(/\u0000/g, '') });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.byteLength;
        if (size >= RESPONSE_EXCERPT_BYTES) {
          done();
          // The rest is not wanted: stop the download instead of reading a large answer to its end.
          res.destroy();
        }
      });
      res.on('end', done);
      res.on('error', failed);
      res.on('aborted', () => failed(new Error('the answer was cut off')));
    });
    timer = setTimeout(() => request.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    request.on('error', failed);
    request.end(body);
  });
}

function messageOf(err: unknown): string {
  const e = err as { message?: string; code?: string };
  const message = e.message ?? String(err);
  return `${message}${e.code && !message.includes(e.code) && e.code !== 'EPRIVATEADDRESS' ? ` (${e.code})` : ''}`.slice(0, 500);
}
