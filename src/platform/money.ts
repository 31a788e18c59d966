/**
 * Money is stored as integer minor units beside an ISO 4217 code (docs/conventions.md). Models and reports that
 * work in major units (a CLV model in dollars, not cents) convert at their edge with the factor below.
 */

const cache = new Map<string, number>();

/**
 * Minor units per major unit of `currency`: 100 for EUR and USD, 1 for JPY, 1000 for BHD. Taken from the currency's
 * default number of fraction digits in Intl (ISO 4217's minor unit), so no table is kept here. Throws a RangeError
 * for a code Intl does not know.
 */
export function minorPerMajor(currency: string): number {
  const code = currency.toUpperCase();
  let factor = cache.get(code);
  if (factor === undefined) {
    if (!/^[A-Z]{3}$/.test(code) || !Intl.supportedValuesOf('currency').includes(code)) {
      throw new RangeError(`not an ISO 4217 currency code: ${currency}`);
    }
    const digits = new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
    factor = 10 ** digits;
    cache.set(code, factor);
  }
  return factor;
}
