/** ₂F₁ against closed forms, including the far corners a fit that ran off reaches (a in the millions, z tiny). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hyp2f1 } from './special.js';

const close = (got: number, want: number, rel = 1e-12) => assert.ok(Math.abs(got - want) <= rel * Math.max(1, Math.abs(want)), `${got} vs ${want}`);

test('2F1(a, b; b; z) = (1 − z)^(−a), from small to huge a', () => {
  for (const [a, b, z] of [[0.5, 2, 0.3], [3, 0.4, 0.9], [12947613.397012752, 0.39757591706046713, 3.1616314194738156e-9], [1.3e8, 0.27, 3.2e-10], [40, 1.5, 0.5]] as const) {
    const f = hyp2f1(a, b, b, z);
    assert.equal(f.sign, 1);
    close(f.log, -a * Math.log1p(-z));
  }
});

test('2F1(1, 1; 2; z) = −ln(1 − z) / z', () => {
  for (const z of [1e-6, 0.2, 0.7, 0.99]) close(Math.exp(hyp2f1(1, 1, 2, z).log), -Math.log1p(-z) / z, 1e-10);
});

test('the inputs a BG/NBD run met (r + x in the millions) converge in a few terms', () => {
  const f = hyp2f1(12947613.397012752, 1.397526036262677, 0.39757591706046713, 3.1616314194738156e-9);
  assert.equal(f.sign, 1);
  assert.ok(Number.isFinite(f.log) && f.log > 0 && f.log < 1, String(f.log));
});

test('a negative c (x = 0, a + b < 1) still sums with its sign: against the plain series', () => {
  for (const [a, b, c, z] of [[0.5, 0.6, -0.4, 0.3], [0.2, 0.3, -0.5, 0.8]] as const) {
    let term = 1;
    let sum = 1;
    for (let n = 0; n < 2000; n++) {
      term *= ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
      sum += term;
    }
    const f = hyp2f1(a, b, c, z);
    assert.equal(f.sign, sum > 0 ? 1 : -1);
    close(f.log, Math.log(Math.abs(sum)), 1e-12);
  }
});
