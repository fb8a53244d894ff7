/** Bitcoin: PSBT v0 review and signing (pure). */
export { btcAddress, btcDescriptor, btcOutputScript, BTC_SCRIPT_TYPES } from './address.js';
export {
  decodePsbtTransport,
  encodePsbtTransport,
  looksLikePsbt,
  MAX_PSBT_INPUT_BYTES,
  type PsbtEncoding,
} from './encoding.js';
export { parsePsbt, serializeParsed, type ParsedPsbt, type NetworkHint } from './parse.js';
export {
  summarizePsbt,
  type BtcSigningPlan,
  type BtcSignRequest,
  type SummarizeOptions,
} from './summarize.js';
export { signPsbt, type SignedPsbt, type SignOptions } from './sign.js';
export { formatBtc } from './units.js';
