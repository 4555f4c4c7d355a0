// Where the conformance corpus is read from: the one path to repoint when the corpus is vendored.
// PORTCULLIS_CONFORMANCE_CORPUS overrides it (a directory holding cases.json, psa/, kyverno/, gatekeeper/).
import { pathToFileURL } from 'node:url';

export const CORPUS: URL = process.env.PORTCULLIS_CONFORMANCE_CORPUS
  ? pathToFileURL(`${process.env.PORTCULLIS_CONFORMANCE_CORPUS.replace(/\/?$/, '/')}`)
  : new URL('../../../shared/conformance/', import.meta.url);
