// Errors of the signature module: a typed code and an "expected X, got Y" message.

export type SignatureErrorCode =
  | 'SIGNATURE_CONFIG_INVALID'
  | 'TRUSTED_ROOT_INVALID'
  | 'SIGNATURE_LIMIT_EXCEEDED'
  | 'SIGNATURE_MALFORMED';

export class SignatureError extends Error {
  readonly code: SignatureErrorCode;
  constructor(code: SignatureErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignatureError';
    this.code = code;
  }
}
