// JSON Pointer (RFC 6901) segments, for the paths of JSON Patches sent to or answered for the API server.

// Escapes one segment: "~" -> "~0", "/" -> "~1" (e.g. an annotation key such as portcullis.dev/pinned).
export function pointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
