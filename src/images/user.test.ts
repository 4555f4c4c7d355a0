import { describe, expect, it } from 'vitest';
import { parseImageUser } from './user.js';

describe('parseImageUser', () => {
  it.each([
    ['', { kind: 'root' }],
    ['0', { kind: 'root' }],
    ['root', { kind: 'root' }],
    ['0:0', { kind: 'root' }],
    ['root:root', { kind: 'root' }],
    [':1000', { kind: 'root' }],
    ['1000', { kind: 'uid', uid: 1000 }],
    ['1000:1000', { kind: 'uid', uid: 1000, gid: '1000' }],
    ['65532:65532', { kind: 'uid', uid: 65532, gid: '65532' }],
    ['1000:', { kind: 'uid', uid: 1000 }],
    ['nginx', { kind: 'name', name: 'nginx' }],
    ['nginx:www', { kind: 'name', name: 'nginx', group: 'www' }],
    ['nobody:1000', { kind: 'name', name: 'nobody', group: '1000' }],
    [' 1000 ', { kind: 'uid', uid: 1000 }],
  ])('%j', (input, expected) => {
    expect(parseImageUser(input)).toEqual(expected);
  });
});
