/**
 * Loads uWebSockets.js and refuses its fallback. The package we install (an npm alias of
 * @trufflesuite/uws-js-unofficial, the last build that runs on glibc 2.36) silently swaps in a slow
 * `ws`-based imitation when its native binary does not load; Vigil must never run on that.
 */
import uws from 'uWebSockets.js';
import { VigilError } from '../core/index.js';

/** True when the native addon is loaded: its functions are native code, and it has native-only exports. */
export function isNativeUws(mod: unknown = uws): boolean {
  const m = mod as Record<string, unknown>;
  const app = m.App;
  return typeof app === 'function'
    && Function.prototype.toString.call(app).includes('[native code]')
    && typeof m.getParts === 'function';
}

/** The native module, or a VigilError with code UWS_FALLBACK. */
export function loadNativeUws(): typeof uws {
  if (!isNativeUws(uws)) {
    throw new VigilError('UWS_FALLBACK',
      'uWebSockets.js loaded its slow JavaScript fallback instead of the native build '
      + `(node ${process.version}, ${process.platform}-${process.arch}, ABI ${process.versions.modules}); refusing to start. `
      + 'Reinstall dependencies with `npm ci` on Node 20 and unset UWS_USE_FALLBACK.');
  }
  return uws;
}
