/**
 * Test-only loader of the CDNOW reference data (README of the shared data folder). Reads files in place from
 * $PATRON_DATASETS_DIR (default ../shared/data relative to the project root) and fails with a clear message when
 * they are missing, so a missing data set can never pass as a skipped validation.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CustomerSummary } from './clv.types.js';
import type { Purchase } from './summary.js';

const projectRoot = path.resolve(import.meta.dirname, '../../../..');

export function datasetsDir(): string {
  return process.env.PATRON_DATASETS_DIR ?? path.resolve(projectRoot, '../shared/data');
}

function read(relative: string): string {
  const file = path.join(datasetsDir(), relative);
  if (!fs.existsSync(file)) {
    throw new Error(
      `CDNOW reference data missing: ${file} does not exist. Set PATRON_DATASETS_DIR to the folder holding cdnow/ ` +
        '(e.g. PATRON_DATASETS_DIR=/work/shared/data); the CLV validation cannot run without it.',
    );
  }
  return fs.readFileSync(file, 'utf8');
}

/** CDNOW_sample.txt: whitespace-separated, no header, CRLF; master id, sample id, YYYYMMDD, CDs, dollars. */
export function cdnowSampleTransactions(): Purchase[] {
  return read('cdnow/CDNOW_sample.txt')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, sampleId, date, , dollars] = line.trim().split(/\s+/);
      if (!sampleId || !date || dollars === undefined || !/^\d{8}$/.test(date)) throw new Error(`bad CDNOW line: ${line}`);
      return {
        customerId: String(Number(sampleId)),
        date: `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`,
        amount: Number(dollars),
      };
    });
}

/** btyd_cdnowSummary_cbs.csv: cust, x, t_x, T_cal, x_star, m_x at full precision, in weeks. */
export function cdnowReferenceSummaries(): CustomerSummary[] {
  const [header, ...rows] = read('cdnow/btyd_cdnowSummary_cbs.csv').trim().split(/\r?\n/);
  if (header !== 'cust,x,t_x,T_cal,x_star,m_x') throw new Error(`unexpected header in btyd_cdnowSummary_cbs.csv: ${header}`);
  return rows.map((line) => {
    const [cust, x, t_x, T, x_star, m_x] = line.split(',').map(Number);
    return { id: String(cust), x: x!, t_x: t_x!, T: T!, x_star: x_star!, m_x: m_x! };
  });
}

/** btyd_cdnow_cumulative_repeat_tracking.csv: week → cumulative repeat purchase days of the sample up to day 7·week. */
export function cdnowCumulativeTracking(): Map<number, number> {
  const [header, ...rows] = read('cdnow/btyd_cdnow_cumulative_repeat_tracking.csv').trim().split(/\r?\n/);
  if (header !== 'week,cum_repeat_transactions') throw new Error(`unexpected header in the tracking file: ${header}`);
  return new Map(rows.map((line) => line.split(',').map(Number) as [number, number]));
}
