/** Types shared by the EVM codec modules (pure). */

/** EIP-712 v4 typed data after validation; `types` excludes EIP712Domain (ethers derives it from `domain`). */
export interface TypedDataDocument {
  domain: Record<string, unknown>;
  types: Record<string, Array<{ name: string; type: string }>>;
  primaryType: string;
  message: Record<string, unknown>;
}

/** Where an EVM request came from (keeps the ERC-4527 request fields the export needs). */
export type EvmRequestSource =
  | { format: 'hex' }
  | { format: 'binary' }
  | { format: 'json' }
  | { format: 'eth-sign-request'; dataType: 1 | 2 | 3 | 4; chainId?: number; address?: string };

interface ParsedBase {
  chain: 'evm';
  /** Address named by the request (EIP-55), or undefined when it names none. */
  from?: string;
  /** The bytes hashed for the requestId: unsigned serialization (txs) or RFC 8785 canonical JSON (messages, typed data). */
  canonical: Uint8Array;
  source: EvmRequestSource;
}

/** The fields of an unsigned transaction as reviewed: addresses EIP-55, integers bigint, data lower-case 0x hex. */
export interface EvmTxFields {
  chainId: bigint;
  nonce: number;
  gasLimit: bigint;
  /** Legacy and EIP-2930 only (null otherwise). */
  gasPrice: bigint | null;
  /** EIP-1559 and EIP-7702 only (null otherwise). */
  maxFeePerGas: bigint | null;
  maxPriorityFeePerGas: bigint | null;
  /** Null for a contract creation. */
  to: string | null;
  value: bigint;
  data: string;
  /** EIP-2930 access list (typed transactions; null for legacy). */
  accessList: Array<{ address: string; storageKeys: string[] }> | null;
  /** EIP-7702 authorization tuples (type 4 only). */
  authorizationList: Array<{
    chainId: bigint;
    address: string;
    nonce: bigint;
    yParity: number;
    r: string;
    s: string;
  }> | null;
}

export interface ParsedEvmTransaction extends ParsedBase {
  kind: 'transaction';
  /** EIP-2718 type: 0 legacy (with EIP-155 chainId), 1 EIP-2930, 2 EIP-1559, 4 EIP-7702. */
  txType: 0 | 1 | 2 | 4;
  /** The reviewed fields (parsed by viem from `canonical`). */
  fields: EvmTxFields;
  chainId: number;
}

export interface ParsedEvmMessage extends ParsedBase {
  kind: 'message';
  /** EIP-191 version 0x45 (personal_sign) message bytes, before the prefix. */
  message: Uint8Array;
}

export interface ParsedEvmTypedData extends ParsedBase {
  kind: 'typed_data';
  typedData: TypedDataDocument;
}

export type ParsedEvmRequest = ParsedEvmTransaction | ParsedEvmMessage | ParsedEvmTypedData;

/** What summarizeEvm decided to sign, with which key; signEvm recomputes and checks the digest. */
export interface EvmSigningPlan {
  kind: ParsedEvmRequest['kind'];
  keyLabel: string;
  keyId: string;
  /** Uncompressed SEC1 public key, hex. */
  publicKey: string;
  /** EIP-55 address of the key. */
  address: string;
  /** 0x-hex 32-byte digest that will be signed. */
  digest: string;
}

export interface SignedEvm {
  /** Signed raw transaction, 0x hex (transactions only). */
  rawTransaction?: string;
  /** Transaction hash, 0x hex (transactions only). */
  hash?: string;
  /** 65-byte r‖s‖v signature, 0x hex, v = 27/28 (messages and typed data; also given for transactions). */
  signature?: string;
  /** Transactions only: the v of the signed transaction (EIP-155 chainId·2+35+yParity for legacy, yParity for typed), decimal. */
  v?: string;
  r: string;
  s: string;
  yParity: 0 | 1;
  /** The digest that was signed, 0x hex. */
  digest: string;
  /** The signer's address (recovered and checked). */
  address: string;
}

/** A token the appliance knows the unit of (policy tokens or the shipped list). */
export interface KnownToken {
  contract: string;
  symbol: string;
  decimals: number;
}
