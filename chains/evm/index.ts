/** EVM chain codec: parse → summarize → sign (pure; see docs/evm-requests.md). */
export { evmAddress, checksumAddress } from './address.js';
export { parseEvmRequest, fromEthSignRequest, MAX_REQUEST_BYTES } from './request.js';
export { summarizeEvm, evmDigest } from './summarize.js';
export { signEvm, verifySignedTransaction } from './sign.js';
export { SHIPPED_TOKENS } from './tokens.js';
export { keccakReady } from './keccak.js';
export type {
  EvmSigningPlan,
  KnownToken,
  ParsedEvmMessage,
  ParsedEvmRequest,
  ParsedEvmTransaction,
  ParsedEvmTypedData,
  SignedEvm,
  TypedDataDocument,
} from './types.js';
