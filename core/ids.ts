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
