/** Calendar days and IANA time zones, the same rules for every module. */

/** The UTC calendar day of an instant, `YYYY-MM-DD`. */
export const isoDay = (d: Date): string => d.toISOString().slice(0, 10);

/** The canonical IANA name of a time zone ("europe/sofia" -> "Europe/Sofia"), or null when it is not one. */
export function canonicalTimeZone(tz: string): string | null {
  // Intl also takes UTC offsets ("+02:00") in newer engines; those are not IANA zones.
  if (!/^[A-Za-z]/.test(tz)) return null;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

export const isTimeZone = (tz: string): boolean => canonicalTimeZone(tz) !== null;
