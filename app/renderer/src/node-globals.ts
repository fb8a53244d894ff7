/**
 * Injected into the browser bundles by esbuild: the Buffer that @ngraveio/bc-ur expects, from the `buffer` package,
 * both for bare `Buffer` references in CommonJS dependencies and as globalThis.Buffer, which qr/ur.ts reads
 * (qr/ is pure and imports no Node built-in; its host provides the global).
 */
import { Buffer } from 'buffer';

// Always this bundle's own Buffer: the CommonJS code checks `instanceof` against it.
(globalThis as unknown as { Buffer: typeof Buffer }).Buffer = Buffer;

export { Buffer };
