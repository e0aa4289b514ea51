/**
 * Errors thrown by tweedie. Every check runs in the shared validation layer before a kernel is
 * called, so both backends throw the same class with the same message for the same input.
 * @module
 */

/** `code` carried by every argument error thrown by tweedie. */
export const ERR_INVALID_ARG = 'ERR_TWEEDIE_INVALID_ARG';

/** A short description of a value for error messages: `Float32Array(12)`, `number -1`, `string "x"`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor?.name ?? 'ArrayBufferView';
    return 'length' in value ? `${name}(${(value as { length: number }).length})` : name;
  }
  if (Array.isArray(value)) return `Array(${value.length})`;
  switch (typeof value) {
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof value} ${String(value)}${typeof value === 'bigint' ? 'n' : ''}`;
    case 'string':
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    case 'function':
      return 'function';
    default:
      return (value as object).constructor?.name ? `${(value as object).constructor.name} object` : 'object';
  }
}

function withCode<E extends Error>(err: E): E {
  (err as E & { code: string }).code = ERR_INVALID_ARG;
  return err;
}

/** TypeError: `Expected <expected> for <name> but received <actual>`. */
export function typeError(name: string, expected: string, actual: unknown): TypeError {
  return withCode(new TypeError(`Expected ${expected} for ${name} but received ${describe(actual)}`));
}

/** RangeError: `Expected <expected> for <name> but received <actual>`. */
export function rangeError(name: string, expected: string, actual: unknown): RangeError {
  return withCode(new RangeError(`Expected ${expected} for ${name} but received ${describe(actual)}`));
}

/** RangeError with a free-form message (shape mismatches between several arguments). */
export function shapeError(message: string): RangeError {
  return withCode(new RangeError(message));
}
