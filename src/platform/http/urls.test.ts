import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkHttpUrl } from './urls.js';

test('checkHttpUrl: absolute http(s) without credentials; the problem named otherwise', () => {
  assert.equal(checkHttpUrl('https://shop.example/account?x=1').url?.href, 'https://shop.example/account?x=1');
  assert.equal(checkHttpUrl('http://localhost:3000/').problem, null);
  assert.equal(checkHttpUrl('/account').problem, 'must be an absolute http(s) URL');
  assert.equal(checkHttpUrl('shop.example', { example: 'https://shop.example/' }).problem, 'must be an absolute http(s) URL such as https://shop.example/');
  assert.equal(checkHttpUrl('ftp://shop.example/').problem, 'must be an http(s) URL');
  assert.equal(checkHttpUrl('javascript:alert(1)').problem, 'must be an http(s) URL');
  assert.equal(checkHttpUrl('https://user:secret@shop.example/').problem, 'must not carry a user name or password');
  assert.equal(checkHttpUrl('https://user@shop.example/').problem, 'must not carry a user name or password');
});
