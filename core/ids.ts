/**
 * Branded identifiers: a DeviceId can never be passed where a SubjectId is expected.
 * The brands exist only at compile time; at run time they are plain strings.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type DeviceId = Brand<string, 'DeviceId'>;
export type SubjectId = Brand<string, 'SubjectId'>;
export type AlertId = Brand<string, 'AlertId'>;
export type OrderRef = Brand<string, 'OrderRef'>;

export const asDeviceId = (s: string): DeviceId => s as DeviceId;
export const asSubjectId = (s: string): SubjectId => s as SubjectId;
export const asAlertId = (s: string): AlertId => s as AlertId;
export const asOrderRef = (s: string): OrderRef => s as OrderRef;

/**
 * The form of a subject id and of an order reference, as operators type them (`vigil enrol`): 1-128 ASCII letters,
 * digits and `.` `_` `-` `:`, beginning and ending with a letter or digit; an order reference may also hold `/` and
 * `+` (but not `..`), as court references do (`SHPO/2026/0001`). No spaces, so a stray one cannot make a different subject; no
 * newline, nothing that reads as a path.
 */
const ID_FORMS = {
  subject: { re: /^[A-Za-z0-9](?:[A-Za-z0-9._:-]{0,126}[A-Za-z0-9])?$/, what: 'a subject id', chars: "'.', '_', '-', ':'" },
  order: { re: /^[A-Za-z0-9](?:[A-Za-z0-9._:+/-]{0,126}[A-Za-z0-9])?$/, what: 'an order reference', chars: "'.', '_', '-', ':', '/', '+'" },
} as const;

/** Why `raw` is not a subject id (or order reference), or undefined when it is one. */
export function idFormProblem(kind: keyof typeof ID_FORMS, raw: string): string | undefined {
  const form = ID_FORMS[kind];
  if (form.re.test(raw) && !(kind === 'order' && raw.includes('..'))) return undefined;
  return `${JSON.stringify(raw)} is not ${form.what}: use 1-128 letters, digits, ${form.chars}, beginning and ending with a letter or digit`;
}
