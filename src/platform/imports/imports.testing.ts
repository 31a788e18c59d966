/**
 * For the import tests (not used by Patron itself): a scratch database on the
 * test server, and a helper that waits for an import to finish.
 */
import { createScratchDatabase } from '../db/scratch-database.js';

/** A fresh, empty database on the test server (see platform/db/scratch-database.ts). */
export const scratchDatabase = createScratchDatabase;

/** Polls an import until it has finished (succeeded or failed); returns its last status. */
export async function waitForImport(baseUrl: string, key: string, path: string, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(baseUrl + path, { headers: { authorization: `Bearer ${key}` } });
    const body: any = await res.json();
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(body)}`);
    if (body.status === 'succeeded' || body.status === 'failed') return body;
    if (Date.now() > deadline) throw new Error(`Import still ${body.status} after ${timeoutMs} ms: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
