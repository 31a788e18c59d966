/**
 * Errors as typed values. Domain code throws `AppError`s built by the factories
 * below; the HTTP layer maps them to RFC 9457 problem documents in one place
 * (platform/http/problem.ts). Domain code never knows about HTTP beyond the
 * status each kind stands for.
 */
export interface FieldError {
  /** Dotted path of the offending input, e.g. `email` or `consent.sms`. */
  field: string;
  detail: string;
}

export type ErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'gone'
  | 'idempotency_key_reused'
  | 'idempotency_key_in_flight'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'insufficient_points'
  | 'insufficient_credit'
  | 'rate_limited'
  | 'unavailable';

const STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  idempotency_key_reused: 409,
  idempotency_key_in_flight: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  insufficient_points: 422,
  insufficient_credit: 422,
  rate_limited: 429,
  unavailable: 503,
};

const TITLE: Record<ErrorCode, string> = {
  validation_failed: 'The request is not valid',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed',
  not_found: 'Not found',
  conflict: 'Conflict',
  gone: 'No longer available',
  idempotency_key_reused: 'Idempotency-Key reused with another request',
  idempotency_key_in_flight: 'A request with this Idempotency-Key is still in progress',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  unprocessable: 'The request cannot be processed',
  insufficient_points: 'Not enough points',
  insufficient_credit: 'Not enough store credit',
  rate_limited: 'Too many requests',
  unavailable: 'Service unavailable',
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[];
  /** Extra headers the HTTP layer should send (e.g. Retry-After). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, detail: string, errors: FieldError[] = [], headers: Record<string, string> = {}) {
    super(detail);
    this.name = 'AppError';
    this.code = code;
    this.status = STATUS[code];
    this.title = TITLE[code];
    this.errors = errors;
    this.headers = headers;
  }
}

export const errors = {
  validation: (errs: FieldError[], detail = errs.map((e) => `${e.field}: ${e.detail}`).join('; ')) =>
    new AppError('validation_failed', detail, errs),
  field: (field: string, detail: string) => new AppError('validation_failed', `${field}: ${detail}`, [{ field, detail }]),
  unauthorized: (detail = 'A valid API key is required: send `Authorization: Bearer <key>`.') =>
    new AppError('unauthorized', detail),
  forbidden: (detail: string) => new AppError('forbidden', detail),
  notFound: (what: string, id?: string) =>
    new AppError('not_found', id ? `No ${what} with id ${id}.` : `No such ${what}.`),
  conflict: (detail: string, errs: FieldError[] = []) => new AppError('conflict', detail, errs),
  conflictOf: (code: 'idempotency_key_reused' | 'idempotency_key_in_flight', detail: string) => new AppError(code, detail),
  /** What existed but is over for good (an expired survey invitation, a closed survey); `errs` names which. */
  gone: (detail: string, errs: FieldError[] = []) => new AppError('gone', detail, errs),
  unprocessable: (detail: string, errs: FieldError[] = []) => new AppError('unprocessable', detail, errs),
  insufficientPoints: (detail: string) => new AppError('insufficient_points', detail),
  insufficientCredit: (detail: string) => new AppError('insufficient_credit', detail),
  payloadTooLarge: (detail: string) => new AppError('payload_too_large', detail),
  unsupportedMediaType: (detail: string) => new AppError('unsupported_media_type', detail),
  unavailable: (detail: string) => new AppError('unavailable', detail),
};

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** Every documented error code with its status, for docs and the error test. */
export const ERROR_CATALOG = (Object.keys(STATUS) as ErrorCode[]).map((code) => ({
  code,
  status: STATUS[code],
  title: TITLE[code],
}));

/** The same field errors once each (two checks may report one problem alike). */
export function uniqueFieldErrors(errs: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errs.filter((e) => {
    const k = `${e.field}\0${e.detail}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
