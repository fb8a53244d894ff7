/**
 * Allowlist entries that can never match a request are refused when the policy is validated (pure):
 * a Bitcoin address with a broken checksum (BIP-173/BIP-350 bech32, Base58Check) or of another network than its
 * rule's, an EVM address whose mixed case is not its EIP-55 checksum, and (against the key registry) a key label
 * that does not exist. Each problem names its field path, e.g. "rules[1].destinations[0].address".
 */
import { address as btcAddress, networks, type Network } from 'bitcoinjs-lib';
import { checksumAddress } from 'viem';
import { makeError } from '../core/errors.js';

type Path = (string | number)[];
export interface AllowlistIssue {
  path: Path;
  message: string;
}

const NETWORKS: Record<string, Network> = {
  mainnet: networks.bitcoin,
  testnet: networks.testnet,
  signet: networks.testnet,
  regtest: networks.regtest,
};

/** True when `text` decodes (checksum included: BIP-173/BIP-350 bech32, Base58Check) as an address of `params`. */
function isAddressOf(text: string, params: Network): boolean {
  try {
    const decoded = btcAddress.fromBech32(text);
    return decoded.prefix === params.bech32;
  } catch {}
  try {
    const { version } = btcAddress.fromBase58Check(text);
    return version === params.pubKeyHash || version === params.scriptHash;
  } catch {}
  return false;
}

/** Why a Bitcoin address can never be paid by a request on `network`, or null when it can. */
export function bitcoinAddressProblem(text: string, network: string): string | null {
  const params = NETWORKS[network];
  if (!params || isAddressOf(text, params)) return null;
  for (const [name, other] of Object.entries(NETWORKS)) {
    if (other !== params && isAddressOf(text, other))
      return `is a ${name === 'testnet' ? 'testnet/signet' : name} address in a ${network} rule, so it can never match`;
  }
  return 'is not a valid Bitcoin address (its checksum or encoding is broken), so it can never match';
}

/** Why an EVM address is unusable: not 20 bytes of hex, or mixed case that is not its EIP-55 checksum. */
export function evmAddressProblem(text: string): string | null {
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) return 'must be a 0x-prefixed 20-byte hex address';
  // EIP-55: all-lower or all-upper hex carries no checksum; mixed case must be the checksum.
  const hex = text.slice(2);
  if (hex === hex.toLowerCase() || hex === hex.toUpperCase()) return null;
  const checksummed = checksumAddress(`0x${hex.toLowerCase()}`);
  if (checksummed === text) return null;
  return `has a broken EIP-55 checksum (a typo?): the checksummed form of the lower-case address is ${checksummed}`;
}

interface RuleShape {
  chain: string;
  network?: string;
  keys?: string[];
  destinations?: Array<{ address: string }>;
}

/** Destinations of a rule that can never match. */
export function ruleAllowlistIssues(rule: RuleShape): AllowlistIssue[] {
  const issues: AllowlistIssue[] = [];
  rule.destinations?.forEach((d, i) => {
    const problem =
      rule.chain === 'btc'
        ? rule.network
          ? bitcoinAddressProblem(d.address, rule.network)
          : null
        : evmAddressProblem(d.address);
    if (problem) issues.push({ path: ['destinations', i, 'address'], message: problem });
  });
  return issues;
}

/** Key labels named by rules that are not in the key registry (checked before a policy is previewed or applied). */
export function unknownKeyLabels(policy: { rules: RuleShape[] }, labels: Iterable<string>): AllowlistIssue[] {
  const known = new Set(labels);
  const issues: AllowlistIssue[] = [];
  policy.rules.forEach((rule, r) =>
    rule.keys?.forEach((label, k) => {
      if (!known.has(label))
        issues.push({
          path: ['rules', r, 'keys', k],
          message: `names the key "${label}", which does not exist on this appliance`,
        });
    }),
  );
  return issues;
}

/** POLICY_INVALID naming the first rule key that does not exist (and how many more problems there are). */
export function assertKeyLabelsExist(policy: { rules: RuleShape[] }, labels: Iterable<string>): void {
  const issues = unknownKeyLabels(policy, labels);
  const first = issues[0];
  if (!first) return;
  const where = `rules[${first.path[1]}].keys[${first.path[3]}]`;
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw makeError('POLICY_INVALID', `Policy field ${where}: ${first.message}${more}.`, {
    field: where,
    problems: issues.map((i) => `rules[${i.path[1]}].keys[${i.path[3]}]: ${i.message}`),
  });
}
