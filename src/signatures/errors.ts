// Errors of the signature module: a typed code and an "expected X, got Y" message.
import { PortcullisError } from '../errors.js';

export type SignatureErrorCode =
  | 'SIGNATURE_CONFIG_INVALID'
  | 'TRUSTED_ROOT_INVALID'
  | 'SIGNATURE_LIMIT_EXCEEDED'
  | 'SIGNATURE_MALFORMED';

export class SignatureError extends PortcullisError<SignatureErrorCode> {}
