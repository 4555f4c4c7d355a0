// RFC 6902 JSON Patch application (add, replace, remove, test) as the API server applies a webhook's patch, for
// tests that check what a patch does to its object. Throws on a path that does not exist, like the API server.
type Json = Record<string, unknown> | unknown[];

function unescape(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

// The parent container of a JSON Pointer and the last segment.
function locate(doc: unknown, pointer: string): [Json, string] {
  if (!pointer.startsWith('/')) throw new Error(`invalid pointer ${JSON.stringify(pointer)}`);
  const parts = pointer.slice(1).split('/').map(unescape);
  const last = parts.pop() as string;
  let node = doc;
  for (const part of parts) {
    if (node === null || typeof node !== 'object') throw new Error(`path ${pointer}: ${part} does not exist`);
    node = Array.isArray(node) ? node[Number(part)] : (node as Record<string, unknown>)[part];
    if (node === undefined) throw new Error(`path ${pointer}: ${part} does not exist`);
  }
  if (node === null || typeof node !== 'object') throw new Error(`path ${pointer}: parent is not a container`);
  return [node as Json, last];
}

export interface Operation {
  op: string;
  path: string;
  value?: unknown;
}

// Applies the operations to a deep copy of doc and returns it.
export function applyPatch<T>(doc: T, ops: readonly Operation[]): T {
  const out = structuredClone(doc);
  for (const op of ops) {
    const [parent, key] = locate(out, op.path);
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : Number(key);
      if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new Error(`path ${op.path}: index out of range`);
      if (op.op === 'add') parent.splice(i, 0, op.value);
      else if (op.op === 'replace') {
        if (i >= parent.length) throw new Error(`path ${op.path}: index out of range`);
        parent[i] = op.value;
      } else if (op.op === 'remove') parent.splice(i, 1);
      else if (op.op === 'test' && JSON.stringify(parent[i]) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
      continue;
    }
    const exists = Object.prototype.hasOwnProperty.call(parent, key);
    if (op.op === 'add') parent[key] = op.value;
    else if (op.op === 'replace') {
      if (!exists) throw new Error(`path ${op.path}: nothing to replace`);
      parent[key] = op.value;
    } else if (op.op === 'remove') {
      if (!exists) throw new Error(`path ${op.path}: nothing to remove`);
      delete parent[key];
    } else if (op.op === 'test' && JSON.stringify(parent[key]) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
  }
  return out;
}
