// The UR libraries expect two Node globals; a browser Worker gets the `buffer` package's Buffer and a minimal `process`.
import { Buffer } from 'buffer';

const scope = globalThis as unknown as {
  Buffer?: typeof Buffer;
  process?: { env: Record<string, string>; browser: boolean };
};
scope.Buffer ??= Buffer;
scope.process ??= { env: {}, browser: true };
