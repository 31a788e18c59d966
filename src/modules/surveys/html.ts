/**
 * The one HTML escaper of the surveys module: the response page and the embed snippet both write text and
 * attribute values with it, so neither can miss a character the other escapes.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text and attribute values (quoted either way), escaped for HTML. */
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
