// The image config's User field, as the container runtime reads it.

export type ImageUser =
  | { kind: 'root' }
  | { kind: 'uid'; uid: number; gid?: string }
  | { kind: 'name'; name: string; group?: string };

const NUMERIC = /^\d+$/;

// Parses `uid`, `uid:gid`, `name`, `name:group`; empty, `root` and `0` (with any group) mean root.
export function parseImageUser(user: string): ImageUser {
  const trimmed = user.trim();
  if (trimmed === '') return { kind: 'root' };
  const colon = trimmed.indexOf(':');
  const who = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const group = colon === -1 ? undefined : trimmed.slice(colon + 1);
  if (who === '' || who === 'root') return { kind: 'root' };
  if (NUMERIC.test(who)) {
    const uid = Number(who);
    if (uid === 0) return { kind: 'root' };
    if (!Number.isSafeInteger(uid) || uid > 0xffffffff) return { kind: 'name', name: who, ...(group ? { group } : {}) };
    return group !== undefined && group !== '' ? { kind: 'uid', uid, gid: group } : { kind: 'uid', uid };
  }
  return group !== undefined && group !== '' ? { kind: 'name', name: who, group } : { kind: 'name', name: who };
}
