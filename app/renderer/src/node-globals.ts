/**
 * Injected into the browser bundles by esbuild: the global Buffer that @ngraveio/bc-ur and the UR registries
 * expect (qr/ur.ts notes it), from the `buffer` package.
 */
export { Buffer } from 'buffer';
