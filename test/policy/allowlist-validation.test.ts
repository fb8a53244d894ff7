/**
 * Policy validation refuses allowlists that can never match (broken bech32 checksum, another network's address,
 * bad EIP-55 checksum, unknown key label), each naming its field path; and every schema message is in an operator's
 * words (no zod "Too small: expected number to be >0").
 */
import { describe, expect, it } from 'vitest';
import * as bitcoin from 'bitcoinjs-lib';
import { isColdsignError } from '../../core/errors.js';
import {
  assertKeyLabelsExist,
  bitcoinAddressProblem,
  evmAddressProblem,
} from '../../policy/allowlist-checks.js';
import { parsePolicy } from '../../policy/schema.js';

const MAINNET = bitcoin.payments.p2wpkh({
  hash: Buffer.alloc(20, 7),
  network: bitcoin.networks.bitcoin,
}).address!;
const TESTNET = bitcoin.payments.p2wpkh({
  hash: Buffer.alloc(20, 7),
  network: bitcoin.networks.testnet,
}).address!;
/** A P2TR (bech32m, BIP-350) output address: witness version 1 and 32 bytes of program. */
const TAPROOT = bitcoin.address.toBech32(Buffer.alloc(32, 0x79), 1, 'bc');
const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
/** The last character changed: same bytes' bech32 with a broken checksum (BIP-173). */
const BROKEN = `${MAINNET.slice(0, -1)}${MAINNET.endsWith('q') ? 'p' : 'q'}`;
/** One letter's case flipped: the EIP-55 checksum no longer matches. */
const BAD_CASE = `0xa${USDC.slice(3)}`;

function problem(doc: unknown): { message: string; field: string } {
  try {
    parsePolicy(doc);
  } catch (error) {
    if (!isColdsignError(error, 'POLICY_INVALID')) throw error;
    return { message: error.message, field: String((error.info as { field?: string }).field) };
  }
  throw new Error('the policy was accepted');
}

const btcRule = (destinations: unknown, extra: object = {}) => ({
  version: 1,
  rules: [{ id: 'b', chain: 'btc', network: 'mainnet', destinations, ...extra }],
});
const evmRule = (extra: object) => ({
  version: 1,
  rules: [{ id: 'e', chain: 'evm', chainIds: [1], ...extra }],
});

describe('allowlists that can never match are refused with the field path', () => {
  it('accepts good mainnet addresses (bech32, bech32m) and EIP-55 or single-case EVM addresses', () => {
    expect(() =>
      parsePolicy(
        btcRule([
          { address: MAINNET, label: 'x' },
          { address: TAPROOT, label: 't' },
        ]),
      ),
    ).not.toThrow();
    expect(() =>
      parsePolicy(
        evmRule({
          destinations: [
            { address: USDC, label: 'x' },
            { address: USDC.toLowerCase(), label: 'y' },
          ],
        }),
      ),
    ).not.toThrow();
  });

  it('a bech32 address with a broken checksum', () => {
    expect(BROKEN).not.toBe(MAINNET);
    const p = problem(
      btcRule([
        { address: MAINNET, label: 'ok' },
        { address: BROKEN, label: 'typo' },
      ]),
    );
    expect(p.field).toBe('rules[0].destinations[1].address');
    expect(p.message).toBe(
      'Policy field rules[0].destinations[1].address: is not a valid Bitcoin address (its checksum or encoding is broken), so it can never match.',
    );
  });

  it('a testnet address in a mainnet rule', () => {
    const p = problem(btcRule([{ address: TESTNET, label: 'test' }]));
    expect(p.field).toBe('rules[0].destinations[0].address');
    expect(p.message).toMatch(/is a testnet\/signet address in a mainnet rule, so it can never match\.$/);
    expect(bitcoinAddressProblem(MAINNET, 'testnet')).toBe(
      'is a mainnet address in a testnet rule, so it can never match',
    );
  });

  it('an EVM address with a bad EIP-55 checksum, in destinations, tokens and contracts', () => {
    expect(evmAddressProblem(BAD_CASE)).toMatch(
      /broken EIP-55 checksum .* 0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48$/,
    );
    expect(problem(evmRule({ destinations: [{ address: BAD_CASE, label: 'x' }] })).field).toBe(
      'rules[0].destinations[0].address',
    );
    expect(problem(evmRule({ tokens: [{ contract: BAD_CASE, symbol: 'USDC', decimals: 6 }] })).field).toBe(
      'rules[0].tokens[0].contract',
    );
    expect(problem(evmRule({ contracts: [{ address: BAD_CASE, selectors: ['0xa9059cbb'] }] })).field).toBe(
      'rules[0].contracts[0].address',
    );
    expect(problem(evmRule({ destinations: [{ address: 'bc1qnotevm', label: 'x' }] })).message).toMatch(
      /destinations\[0\]\.address: must be a 0x-prefixed 20-byte hex address/,
    );
  });

  it('a key label that does not exist on the appliance', () => {
    const doc = parsePolicy(btcRule([{ address: MAINNET, label: 'x' }], { keys: ['vault-1', 'vault-typo'] }));
    expect(() => assertKeyLabelsExist(doc, ['vault-1', 'vault-2'])).toThrow(
      'Policy field rules[0].keys[1]: names the key "vault-typo", which does not exist on this appliance.',
    );
    expect(() => assertKeyLabelsExist(doc, ['vault-1', 'vault-typo'])).not.toThrow();
  });
});

describe('schema messages are in operator words and name the field', () => {
  it.each([
    [btcRule(undefined, { maxFeeRate: 0 }), 'rules[0].maxFeeRate', 'must be more than 0'],
    [btcRule(undefined, { maxFeeRate: 2_000_000 }), 'rules[0].maxFeeRate', 'must be at most 1000000'],
    [btcRule(undefined, { keys: [] }), 'rules[0].keys', 'must list at least 1 item'],
    [
      btcRule(undefined, { network: 'moon' }),
      'rules[0].network',
      'must be mainnet, testnet, signet or regtest',
    ],
    [btcRule(undefined, { approvals: 33 }), 'rules[0].approvals', 'must be at most 32'],
    [btcRule(undefined, { approvals: '2' }), 'rules[0].approvals', 'must be a whole number of officers'],
    [
      btcRule(undefined, { description: 'x'.repeat(501) }),
      'rules[0].description',
      'must have at most 500 characters',
    ],
    [btcRule(undefined, { allowBlind: 'yes' }), 'rules[0].allowBlind', 'must be true or false'],
    [evmRule({ chainIds: [0] }), 'rules[0].chainIds[0]', 'must be more than 0'],
    [evmRule({ chainIds: 1 }), 'rules[0].chainIds', 'must be a list of EIP-155 chain ids'],
    [{ version: 1 }, 'rules', 'must be a list of rules'],
    [{ rules: [] }, 'version', 'must be a whole number'],
    [{ version: 1, rules: [], extra: 1 }, 'document', 'unknown field "extra" (check the spelling)'],
  ])('%#: %s', (doc, field, words) => {
    const p = problem(doc);
    expect(p.field).toBe(field);
    expect(p.message).toContain(`${field}: ${words}`);
    expect(p.message).not.toMatch(/Too (small|big)|expected|Invalid (input|option)|Unrecognized/);
  });
});
