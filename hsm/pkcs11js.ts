/**
 * pkcs11js, imported here once for the whole HSM layer: the CLI bundle turns every ES import of a CommonJS module
 * into a fresh copy of its exports (esbuild's __toESM), and pkcs11js exports thousands of constants, so eleven
 * importers cost about 10 ms of every command that opens the HSM.
 */
import pkcs11js from 'pkcs11js';

export default pkcs11js;
