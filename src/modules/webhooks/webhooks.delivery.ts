/**
 * One HTTP attempt of a webhook: POST the body with its headers, wait at most `timeoutMs` for the answer, and keep
 * the status, the time it took and the first 2 KB of the answer for the delivery log. Redirects are not followed (a
 * 3xx is a failed attempt: the endpoint's URL should be the final one). Never throws: a refused connection, a reset
 * or a timeout is an attempt with no status code and an error.
 */

/** The most of a receiver's answer kept in the delivery log. */
export const RESPONSE_EXCERPT_BYTES = 2048;

export interface AttemptResult {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
}

export async function postWebhook(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AttemptResult> {
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  const elapsed = () => Math.max(0, Math.round(performance.now() - started));
  try {
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: controller.signal });
    let excerpt: string | null = null;
    let error: string | null = null;
    try {
      excerpt = await readExcerpt(res);
    } catch (err) {
      // The status counts even when the body could not be read to its 2 KB (a slow or broken answer).
      error = `reading the answer: ${messageOf(err, controller)}`;
    }
    return { statusCode: res.status, durationMs: elapsed(), error, responseBody: excerpt };
  } catch (err) {
    return { statusCode: null, durationMs: elapsed(), error: messageOf(err, controller), responseBody: null };
  } finally {
    clearTimeout(timer);
  }
}

async function readExcerpt(res: Response): Promise<string | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // The rest is not wanted: stop the download instead of reading a large answer to its end.
    await reader.cancel().catch(() => undefined);
  }
  const bytes = Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES);
  // A cut in the middle of a UTF-8 character leaves a replacement character, and PostgreSQL text refuses NUL.
  return bytes.toString('utf8').replace(/\u0000/g, '');
}

function messageOf(err: unknown, controller: AbortController): string {
  if (controller.signal.aborted) return (controller.signal.reason as Error)?.message ?? 'timed out';
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.message ?? String(err)}${cause ? ` (${cause})` : ''}`.slice(0, 500);
}
