/**
 * The check of a URL a tenant gives Patron to put in front of a member (a link in an email, a share link) or call (a webhook
 * endpoint): absolute, http or https, and without a user name or password (which would
 * be shown to every member, or sent in the clear). Each owner adds its own rules on top (webhooks: https only off
 * local hosts, no private addresses).
 */
export type HttpUrlCheck = { url: URL; problem: null } | { url: null; problem: string };

export function checkHttpUrl(raw: string, opts: { example?: string } = {}): HttpUrlCheck {
  const bad = (problem: string): HttpUrlCheck => ({ url: null, problem });
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return bad(`must be an absolute http(s) URL${opts.example ? ` such as ${opts.example}` : ''}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return bad('must be an http(s) URL');
  if (u.username || u.password) return bad('must not carry a user name or password');
  return { url: u, problem: null };
}
