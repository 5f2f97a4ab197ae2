/**
 * The MessagePack Vigil reads from devices and writes where the bytes must decode the same way later:
 * plain maps (no msgpackr record extension, which other clients would not understand) and 64-bit
 * integers as numbers. Device frames (ingest/frame-codec.ts) and journal entries (store/journal-codec.ts),
 * which are often those frames as received, share these two, so a stored frame decodes as ingest decoded it.
 */
import { Packr, Unpackr } from 'msgpackr';

export const plainPackr = new Packr({ useRecords: false, moreTypes: false });
export const plainUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
