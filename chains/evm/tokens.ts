/** Token units the appliance can show without a policy: a small shipped list (Ethereum mainnet) plus policy tokens (pure). */
import { formatUnits } from './units.js';
import type { AssetRef } from '../../core/summary.js';
import type { KnownToken } from './types.js';

/** Ethereum mainnet (chainId 1) contracts, from each issuer's published deployment. */
export const SHIPPED_TOKENS: ReadonlyArray<KnownToken & { chainId: number }> = [
  { chainId: 1, contract: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', symbol: 'USDC', decimals: 6 },
  { chainId: 1, contract: '0xdAC17F958D2ee523a2206206994597C13D831ec7', symbol: 'USDT', decimals: 6 },
  { chainId: 1, contract: '0x6B175474E89094C44Da98b954EedeAC495271d0F', symbol: 'DAI', decimals: 18 },
  { chainId: 1, contract: '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2', symbol: 'WETH', decimals: 18 },
];

/** Looks tokens up by contract: policy tokens first (any chain), then the shipped list for the chain. */
export class TokenBook {
  private readonly byContract = new Map<string, KnownToken>();

  constructor(
    private readonly chainId: number | undefined,
    tokens: ReadonlyArray<KnownToken>,
  ) {
    for (const token of tokens) {
      if (
        typeof token?.contract !== 'string' ||
        !Number.isInteger(token.decimals) ||
        token.decimals < 0 ||
        token.decimals > 77
      )
        continue;
      this.byContract.set(token.contract.toLowerCase(), token);
    }
  }

  find(contract: string): KnownToken | undefined {
    const key = contract.toLowerCase();
    const policy = this.byContract.get(key);
    if (policy) return policy;
    return SHIPPED_TOKENS.find((t) => t.chainId === this.chainId && t.contract.toLowerCase() === key);
  }

  asset(contract: string): AssetRef {
    const token = this.find(contract);
    return token
      ? { type: 'token', contract, symbol: token.symbol, decimals: token.decimals }
      : { type: 'token', contract };
  }

  /** Amount in token units when the decimals are known, else null. */
  amount(contract: string, raw: bigint): string | null {
    const token = this.find(contract);
    return token ? formatUnits(raw, token.decimals) : null;
  }

  /** "12.5 USDC" or "12500000 (raw units of 0x…)" for warnings. */
  describe(contract: string, raw: bigint): string {
    const token = this.find(contract);
    return token
      ? `${formatUnits(raw, token.decimals)} ${token.symbol}`
      : `${raw} raw units of token ${contract}`;
  }
}
