import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { minorPerMajor } from './money.js';

describe('minorPerMajor', () => {
  test('follows the currency’s minor unit (ISO 4217) as Intl knows it', () => {
    assert.equal(minorPerMajor('EUR'), 100);
    assert.equal(minorPerMajor('USD'), 100);
    assert.equal(minorPerMajor('BGN'), 100);
    assert.equal(minorPerMajor('JPY'), 1);
    assert.equal(minorPerMajor('KRW'), 1);
    assert.equal(minorPerMajor('BHD'), 1000);
    assert.equal(minorPerMajor('KWD'), 1000);
    assert.equal(minorPerMajor('usd'), 100, 'the code is case-insensitive');
  });

  test('an unknown code is a RangeError, not a guess', () => {
    assert.throws(() => minorPerMajor('XYZ'), RangeError);
    assert.throws(() => minorPerMajor('EURO'), RangeError);
    assert.throws(() => minorPerMajor(''), RangeError);
  });
});
