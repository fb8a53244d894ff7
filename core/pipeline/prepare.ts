/**
 * Parse and summarize one request with its chain's codec, and compute its request id
 * (hex SHA-256 of the canonical request bytes, SPEC.md `requestId`).
 */
import type { BtcSigningPlan, ParsedPsbt, SummarizeOptions } from '../../chains/btc/index.js';
import type { BtcMessagePlan, BtcMessageRequest } from '../../chains/btc/message-request.js';
import type { EvmSigningPlan, KnownToken, ParsedEvmRequest } from '../../chains/evm/index.js';
import { toHex } from '../bytes.js';
import { pureSha256, type Sha256 } from '../hasher.js';
import { isColdsignError, makeError } from '../errors.js';
import type { BtcNetwork, KeyRecord } from '../signer.js';
import type { RequestKind, SigningSummary } from '../summary.js';
import type { RequestPayload } from './intake.js';
import type { EthSignRequestFields } from '../../qr/index.js';

export type PreparedRequest =
  | {
      chain: 'btc';
      requestId: string;
      kind: 'psbt';
      summary: SigningSummary;
      payload: RequestPayload;
      parsed: ParsedPsbt;
      plan: BtcSigningPlan;
    }
  | {
      /** A Bitcoin message to sign (BIP-322 simple or the legacy signed message). */
      chain: 'btc';
      requestId: string;
      kind: 'message';
      summary: SigningSummary;
      payload: RequestPayload;
      parsed: BtcMessageRequest & { canonical: Uint8Array };
      plan: BtcMessagePlan;
    }
  | {
      chain: 'evm';
      requestId: string;
      kind: RequestKind;
      summary: SigningSummary;
      payload: RequestPayload;
      parsed: ParsedEvmRequest;
      plan: EvmSigningPlan;
    };

export interface PrepareOptions {
  /** Tokens whose units are known (the policy's token lists). */
  tokens: KnownToken[];
  /** What the policy in force allows a Bitcoin request (sighash types, witness_utxo-only inputs, registered wallets). */
  btc?: Omit<SummarizeOptions, 'network'>;
  /**
   * Routes an eth-sign-request by the path and fingerprint it names to one of our keys (or refuses it), and
   * says what the review shows of it (appliance/evm-pairing.ts).
   */
  routeEthSignRequest?: (request: EthSignRequestFields) => {
    request: EthSignRequestFields;
    routing: Record<string, unknown>;
  };
  /**
   * SHA-256 for the request id and a PSBT's txids and digests (core/hasher.ts): the appliance passes Node's
   * native one (core/ may not import it); default @noble/hashes.
   */
  sha256?: Sha256;
}

/** SPEC.md `requestId`: hex SHA-256 of the canonical request bytes, by the hasher the caller injects. */
function requestIdOf(canonical: Uint8Array, options: PrepareOptions): string {
  return toHex((options.sha256 ?? pureSha256)(canonical));
}

/** Each chain's codec (and its libraries) loads only for a request of that chain. */
export async function prepareRequest(
  payload: RequestPayload,
  keys: KeyRecord[],
  options: PrepareOptions,
): Promise<PreparedRequest> {
  if ('messageRequest' in payload) return prepareBtcMessage(payload, keys, options);
  if (payload.chain === 'btc')
    return prepareBtc(payload, keys, options, await import('../../chains/btc/index.js'));
  const { fromEthSignRequest, parseEvmRequest, summarizeEvm, keccakReady } =
    await import('../../chains/evm/index.js');
  await keccakReady; // the WebAssembly keccak-256 for the digest and the checksums, not the JavaScript fallback
  const routed = 'ethSignRequest' in payload ? routeRequest(payload.ethSignRequest, options) : undefined;
  const parsed =
    'ethSignRequest' in payload ? fromEthSignRequest(routed!.request) : parseEvmRequest(payload.bytes);
  const evmKeys = keys.filter((k) => k.chain === 'evm');
  if (evmKeys.length === 0)
    throw makeError('KEY_NOT_FOUND', 'There is no EVM key on this appliance to sign this request with.');
  const { summary, plan } = summarizeEvm(parsed, evmKeys, options.tokens);
  // ERC-4527: the request's origin, path and source fingerprint are shown on review and in --json.
  if (routed) summary.details.pairing = routed.routing;
  return {
    chain: 'evm',
    requestId: requestIdOf(parsed.canonical, options),
    kind: parsed.kind,
    summary,
    payload,
    parsed,
    plan,
  };
}

/** Without a router, a request that names a path or fingerprint cannot be matched to a key: refused. */
function routeRequest(
  request: EthSignRequestFields,
  options: PrepareOptions,
): { request: EthSignRequestFields; routing: Record<string, unknown> } {
  if (options.routeEthSignRequest) return options.routeEthSignRequest(request);
  if (request.derivationPath !== undefined || request.sourceFingerprint !== undefined)
    throw makeError(
      'EVM_PAIRING_UNAVAILABLE',
      'The eth-sign-request names a key path, but no pairing is available to match it to a key.',
    );
  return { request, routing: { origin: request.origin ?? null, path: null, fingerprint: null, key: null } };
}

/** A Bitcoin message request: read, routed to our key by its address, summarized (chains/btc/message-request.ts). */
async function prepareBtcMessage(
  payload: Extract<RequestPayload, { messageRequest: Uint8Array }>,
  keys: KeyRecord[],
  options: PrepareOptions,
): Promise<PreparedRequest> {
  const { canonicalBtcMessage, parseBtcMessageRequest, planBtcMessage, summarizeBtcMessage } =
    await import('../../chains/btc/message-request.js');
  const request = parseBtcMessageRequest(payload.messageRequest);
  const plan = planBtcMessage(request, keys);
  const canonical = canonicalBtcMessage(request, plan);
  return {
    chain: 'btc',
    requestId: requestIdOf(canonical, options),
    kind: 'message',
    summary: summarizeBtcMessage(request, plan),
    payload,
    parsed: { ...request, canonical },
    plan,
  };
}

/** The PSBT does not say its network: try each network our Bitcoin keys live on, in turn. */
function prepareBtc(
  payload: Extract<RequestPayload, { psbt: Uint8Array }>,
  keys: KeyRecord[],
  options: PrepareOptions,
  { parsePsbt, summarizePsbt }: typeof import('../../chains/btc/index.js'),
): PreparedRequest {
  const sha256 = options.sha256 ?? pureSha256;
  const parsed = parsePsbt(payload.psbt, { sha256 });
  const requestId = requestIdOf(parsed.canonical, options);
  const btcKeys = keys.filter((k) => k.chain === 'btc');
  const networks = [...new Set(btcKeys.map((k) => k.network ?? 'mainnet'))] as BtcNetwork[];
  if (networks.length === 0)
    throw makeError(
      'PSBT_NOTHING_TO_SIGN',
      'There is no Bitcoin key on this appliance, so no input of this PSBT is ours.',
    );
  let lastError: unknown;
  for (const network of networks) {
    try {
      const { summary, plan } = summarizePsbt(
        parsed,
        btcKeys.filter((k) => (k.network ?? 'mainnet') === network),
        { ...options.btc, network },
      );
      return {
        chain: 'btc',
        requestId,
        kind: 'psbt',
        summary,
        payload,
        parsed,
        plan,
      };
    } catch (error) {
      // A refusal the policy makes while reading (sighash type, unregistered multisig) names the request it refuses.
      if (isColdsignError(error) && error.family === 'policy')
        throw makeError(error.code, error.message, { ...error.info, requestId });
      if (!isColdsignError(error, 'PSBT_NOTHING_TO_SIGN')) throw error;
      lastError = error;
    }
  }
  throw lastError;
}
