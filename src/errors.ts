// The one base class of portcullis's errors: a typed `code` for callers and tests, a message for people.
export class PortcullisError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
