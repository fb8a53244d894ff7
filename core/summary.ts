/**
 * SigningSummary: one shape for both chains, produced by chains/*, read by policy/evaluate,
 * the CLI review and the desktop app (pure types).
 */
import type { BtcNetwork, Chain } from './signer.js';

/** Request kinds of SPEC.md (`kind` in the --json report). */
export type RequestKind = 'psbt' | 'transaction' | 'message' | 'typed_data';

export type AssetRef =
  | { type: 'native'; symbol: 'BTC' | 'ETH' }
  | { type: 'token'; contract: string; symbol?: string; decimals?: number };

/**
 * The channel through which value leaves (ARCHITECTURE.md "Every way value leaves is a movement").
 * btc: `output` (an output not ours), `change` (to our key or a registered wallet), `fee`.
 * evm: `native` (tx value), `token-transfer` (ERC-20 transfer/transferFrom), `approval` (approve,
 * increaseAllowance, Permit, Permit2: the spender may pull up to the amount), `safe-call` (a Safe inner
 * call's value), `safe-refund` (Safe gas refund to refundReceiver), `delegation` (EIP-7702: the account is
 * handed to `to`), `call` (code at `to` is called; the amount is what the call carries), `fee` (max gas fee).
 */
export type MovementChannel =
  | 'output'
  | 'change'
  | 'fee'
  | 'native'
  | 'token-transfer'
  | 'approval'
  | 'safe-call'
  | 'safe-refund'
  | 'delegation'
  | 'call';

/** Value that a request moves to a destination. Change outputs are listed with change: true. */
export interface Movement {
  /** How the value leaves; absent only in code written before the movement model. */
  channel?: MovementChannel;
  /** Whose value moves (our key's address or label, a Safe's address), when known. */
  from?: string | null;
  /** True when the amount has no bound the request states (unlimited approvals, unknown refunds). */
  unbounded?: boolean;
  /** ISO-8601 time after which the movement can no longer happen (permit deadlines, approval expiry). */
  deadline?: string | null;
  /** evm `call` / `safe-call`: the 4-byte selector called (absent when no calldata is sent). */
  selector?: string;
  /** evm `delegation`: the chain id the EIP-7702 authorization is valid on ("0": every chain). */
  chainId?: string;
  /** Name of the registered wallet an output pays (btc change to a multisig wallet). */
  wallet?: string;
  /** Address (btc: for the network; evm: EIP-55 checksummed). `null` for OP_RETURN / unknown scripts. */
  to: string | null;
  /** Integer amount in base units (sat, wei, token base units), decimal string. */
  raw: string;
  /** Decimal amount in the asset's main unit (BTC, ETH, token units), or null when decimals are unknown. */
  amount: string | null;
  asset: AssetRef;
  /** True only when the destination is one of our registered keys (BIP-174 change detection). */
  change: boolean;
}

/** Default Bitcoin fee sanity limits, applied when a rule sets no fee cap of its own (maxFee, maxFeeRate, maxFeePercent). */
export const BTC_DEFAULT_FEE_LIMITS = { percentOfSent: 5, satPerVbyte: 1000 } as const;

/** Default EVM price per gas (gwei), applied when a rule sets no fee cap of its own (maxFee, maxFeePercent). */
export const EVM_DEFAULT_MAX_GWEI_PER_GAS = 1000;

/**
 * What a Bitcoin request exposes beyond its movements, for policy/btc-checks.ts (decimal sat strings).
 * feeStatus: `verified` (every input's amount proven by its previous transaction), `unverified` (one of our
 * segwit inputs carries witness_utxo only: the number is the PSBT's claim), `unknown` (a foreign input's
 * amount is unproven: no fee is shown, and the fee movement is the most our inputs can contribute).
 */
export interface BtcPolicyFacts {
  /** Sighash names our inputs are signed with ("ALL", "NONE|ANYONECANPAY", ...). */
  sighashTypes: string[];
  /**
   * Value the signatures may lose beyond what the review counts: our inputs signed with NONE or SINGLE (their
   * outputs can be rewritten), plus the change when feeStatus is `unknown` (it cannot be credited).
   */
  atRiskSats: string;
  /** Sum of our inputs. */
  ourInputSats: string;
  /** Outputs that do not pay our keys or registered wallets. */
  sentSats: string;
  /** Fee, or (feeStatus unknown) the most our inputs can contribute to it. */
  feeSats: string;
  feeStatus: 'verified' | 'unverified' | 'unknown';
  /** Fee rate in sat/vB, or null when the fee is unknown. */
  feeRate: number | null;
  /** Registered wallets our inputs spend from or outputs pay. */
  wallets: string[];
}

/** A decoded contract call (ERC-20, Safe, ...). */
export interface DecodedCall {
  contract: string;
  /** 4-byte selector, 0x-prefixed. */
  selector: string;
  /** Function signature, e.g. "transfer(address,uint256)"; null when not understood. */
  name: string | null;
  /** Decoded arguments as strings (addresses checksummed, integers decimal). */
  args: Record<string, string>;
  /** e.g. 'erc20-transfer', 'erc20-approve', 'safe-exec', 'permit', 'permit2'. */
  category?: string;
  /** True for approvals and permits: the call lets someone else spend our assets. */
  spendingApproval?: boolean;
  /** True for approvals of the maximum uint256 amount. */
  unlimited?: boolean;
  /** True for Safe operation = 1 (delegatecall). */
  delegatecall?: boolean;
}

export interface SigningSummary {
  chain: Chain;
  kind: RequestKind;
  /** Bitcoin network of the request. */
  network?: BtcNetwork;
  /** EVM chain id (EIP-155), decimal. */
  chainId?: number;
  /** Labels of our keys that will sign. */
  signingKeys: string[];
  /** Everything that moves value, including change (flagged). */
  movements: Movement[];
  /** Fee in the native asset: btc fee paid; evm maximum fee (gasLimit × maxFeePerGas). Null for messages. */
  fee: { raw: string; amount: string; rate?: number } | null;
  /** Contract call, when the request calls a contract or signs typed data that we decode. */
  call?: DecodedCall;
  /** True when calldata or typed data is not understood. */
  blind: boolean;
  /** EIP-712 domain of typed data. */
  typedData?: { domain: Record<string, string>; primaryType: string };
  /** Message text (EIP-191) when it is printable UTF-8; hex always. */
  message?: { text: string | null; hex: string };
  /** Plain-words warnings for the operator. */
  warnings: string[];
  /** Bitcoin facts the policy checks beyond movements (chains/btc fills it). */
  btc?: BtcPolicyFacts;
  /** The chain-specific summary printed in the --json report (documented in the README). */
  details: Record<string, unknown>;
}

/** One line of the policy verdict. */
export interface RuleReason {
  rule: string;
  ok: boolean;
  message: string;
}

/** The result of policy.evaluate (pure). */
export interface Decision {
  allowed: boolean;
  /** Id of the matching rule, or null. */
  rule: string | null;
  /** When refused: the rule that failed on the fewest checks (its reasons come first), or null. */
  closestRule?: string | null;
  requiredApprovals: number;
  reasons: RuleReason[];
}
