/**
 * CSV cells that are safe to open in a spreadsheet. A cell starting with =, +, -, @ (or a tab or carriage return)
 * is run as a formula by Excel, LibreOffice and Google Sheets ("CSV injection"), so text a client or a member wrote
 * (an external id, a free-text answer) gets a leading apostrophe, which spreadsheets show as text. Numbers are
 * written as numbers: a negative amount is not text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function spreadsheetSafe(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}
