/**
 * Property (fast-check, fixed seed, 10,000 requests): EVM requests — transactions, ERC-20 transfers and
 * approvals, Safe calls (execTransaction and SafeTx) with refunds, EIP-2612 permits, Permit2 single and
 * batch, EIP-7702 delegations — are generated as movements first and encoded with ethers second. The pure
 * appliance (prepare + evaluate) must list exactly the generated movements and allow the request if and only
 * if every movement is within the rule, as an independent oracle written here from docs/policy.md decides.
 */
import fc from 'fast-check';
import { Interface, MaxUint256, TypedDataEncoder, Wallet, ZeroAddress, getAddress, hexlify } from 'ethers';
import { describe, expect, it } from 'vitest';
import { prepareRequest } from '../../core/pipeline/prepare.js';
import { evaluate } from '../../policy/evaluate.js';
import { parsePolicy } from '../../policy/schema.js';
import { KEY_A } from '../evm/fixtures.js';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const NOW_S = BigInt(NOW.getTime() / 1000);
const DAY = 86_400n;
const ETH = 10n ** 18n;
const OURS = KEY_A.address;
const addr = (n: number) => getAddress(`0x${n.toString(16).padStart(2, '0').repeat(20)}`);
const [D1, D2, S1, X, T1, T2, T3, SAFE, C1, C2] = [
  0x11, 0x12, 0x13, 0x66, 0x21, 0x22, 0x23, 0x5a, 0xc1, 0xc2,
].map(addr) as [string, string, string, string, string, string, string, string, string, string];
const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
const TOKEN = {
  [T1]: { decimals: 6, max: 100n * 10n ** 6n, approvalCap: 50n * 10n ** 6n, window: 7n * DAY },
  [T2]: { decimals: 18, max: 10n * ETH, approvalCap: 10n * ETH, window: 30n * DAY },
} as Record<string, { decimals: number; max: bigint; approvalCap: bigint; window: bigint }>;
const DESTINATIONS = [D1, D2, S1];
const MAX_ETH = ETH;
const REFUND_CAP = ETH / 100n;
const AUTHORITY = new Wallet(hexlify(new Uint8Array(32).fill(0x33)));

const POLICY = parsePolicy({
  version: 1,
  rules: [
    {
      id: 'all',
      chain: 'evm',
      chainIds: [1],
      kinds: ['transfer', 'token_transfer', 'contract_call', 'typed_data'],
      destinations: DESTINATIONS.map((address) => ({ address, label: address.slice(0, 6) })),
      maxAmount: '1',
      tokens: [
        {
          contract: T1,
          symbol: 'TA',
          decimals: 6,
          maxAmount: '100',
          approvalMaxAmount: '50',
          approvalMaxDeadline: '7d',
        },
        { contract: T2, symbol: 'TB', decimals: 18, maxAmount: '10' },
      ],
      contracts: [{ address: SAFE, label: 'Safe', selectors: ['0x6a761202'] }],
      typedDataDomains: [
        { verifyingContract: SAFE },
        { name: 'Permit2' },
        { name: 'Token', verifyingContract: T1 },
        { name: 'Token', verifyingContract: T2 },
        { name: 'Token', verifyingContract: T3 },
      ],
      safeRefunds: [{ receiver: D1, label: 'relayer', asset: 'ETH', maxAmount: '0.01' }],
      delegations: [{ contract: C1, chainIds: [1] }],
    },
  ],
});
const TOKENS = [
  { contract: T1, symbol: 'TA', decimals: 6 },
  { contract: T2, symbol: 'TB', decimals: 18 },
];

const ERC20 = new Interface([
  'function transfer(address to, uint256 amount)',
  'function approve(address spender, uint256 amount)',
]);
const SAFE_ABI = new Interface([
  'function execTransaction(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures)',
]);

/** A generated movement: what the request must be reduced to. */
interface Expected {
  channel: string;
  from: string | null;
  to: string | null;
  raw: bigint;
  token: string | null;
  unbounded: boolean;
  deadline?: string | null;
  chainId?: string;
}

const iso = (s: bigint): string | null =>
  s >= 253_402_300_800n ? null : new Date(Number(s) * 1000).toISOString();

// ---- the oracle: docs/policy.md "Every movement is checked", written independently of policy/ ----
const ours = (a: string | null) => a === OURS;
const listedDest = (a: string | null) => a !== null && DESTINATIONS.includes(a);
function within(m: Expected, all: Expected[]): boolean {
  switch (m.channel) {
    case 'native':
      return ours(m.to) || listedDest(m.to);
    case 'call':
      if (m.to === SAFE) return true;
      return (
        (m.to === T1 || m.to === T2) && (m.raw === 0n || ours(m.to)) && all.some((o) => o.token === m.to)
      );
    case 'token-transfer':
      return (m.token === T1 || m.token === T2) && (ours(m.to) || listedDest(m.to));
    case 'safe-call':
      return m.to === T1 || m.to === T2
        ? m.raw === 0n && all.some((o) => o.token === m.to)
        : ours(m.to) || listedDest(m.to);
    case 'approval': {
      const t = m.token ? TOKEN[m.token] : undefined;
      if (!t) return false;
      if (m.deadline === null) return false;
      if (m.deadline !== undefined && Date.parse(m.deadline) > NOW.getTime() + Number(t.window) * 1000)
        return false;
      if (ours(m.to)) return true;
      return listedDest(m.to) && !m.unbounded && m.raw <= t.approvalCap;
    }
    case 'safe-refund':
      return ours(m.to) || (m.to === D1 && m.token === null && !m.unbounded && m.raw <= REFUND_CAP);
    case 'delegation':
      return m.to === C1 && m.chainId === '1';
    default:
      return false;
  }
}
/** What a transaction's fee may take (gasLimit × maxFeePerGas) counts as ETH leaving; typed data has no fee. */
function maxFeeOf(request: Record<string, unknown>): bigint {
  return request.type === 'transaction'
    ? BigInt(request.gasLimit as number) * BigInt(request.maxFeePerGas as string)
    : 0n;
}
function allowedByOracle(moves: Expected[], maxFee: bigint): boolean {
  if (!moves.every((m) => within(m, moves))) return false;
  // Approvals of one token to others add up within a request, against the same cap.
  const granted = new Map<string, bigint>();
  for (const m of moves)
    if (m.channel === 'approval' && !ours(m.to) && !m.unbounded && m.token)
      granted.set(m.token, (granted.get(m.token) ?? 0n) + m.raw);
  for (const [token, total] of granted) if (total > (TOKEN[token]?.approvalCap ?? 0n)) return false;
  const spent = new Map<string, bigint>(maxFee > 0n ? [['ETH', maxFee]] : []);
  for (const m of moves) {
    if (ours(m.to) || !['native', 'call', 'token-transfer', 'safe-call'].includes(m.channel)) continue;
    const key = m.token ?? 'ETH';
    spent.set(key, (spent.get(key) ?? 0n) + m.raw);
  }
  for (const [key, total] of spent)
    if (total > (key === 'ETH' ? MAX_ETH : (TOKEN[key]?.max ?? 0n))) return false;
  return true;
}

// ---- generators: movements first ----
const anyDest = fc.constantFrom(D1, D2, S1, X, OURS);
const anyToken = fc.constantFrom(T1, T2, T3);
const ethAmount = fc.oneof(
  fc.constantFrom(0n, 1n, MAX_ETH, MAX_ETH + 1n),
  fc.bigInt({ min: 0n, max: 2n * ETH }),
);
const tokenAmount = fc.oneof(
  fc.constantFrom(
    0n,
    50n * 10n ** 6n,
    50n * 10n ** 6n + 1n,
    100n * 10n ** 6n,
    100n * 10n ** 6n + 1n,
    10n * ETH,
    1n << 128n,
    MaxUint256 - 1n,
    MaxUint256,
  ),
  fc.bigInt({ min: 0n, max: 200n * 10n ** 6n }),
);
const deadline = fc.constantFrom(
  NOW_S + 3600n,
  NOW_S + 6n * DAY,
  NOW_S + 8n * DAY,
  NOW_S + 31n * DAY,
  MaxUint256,
);

type Case = { request: unknown; moves: Expected[] };
const tx = (fields: Record<string, unknown>) => ({
  type: 'transaction',
  from: OURS,
  chainId: 1,
  nonce: 0,
  gasLimit: 300_000,
  maxFeePerGas: '30000000000',
  maxPriorityFeePerGas: '1000000000',
  ...fields,
});
const typed = (
  domain: Record<string, unknown>,
  types: Record<string, Array<{ name: string; type: string }>>,
  message: Record<string, unknown>,
) => ({
  type: 'typed_data',
  from: OURS,
  typedData: TypedDataEncoder.getPayload(domain, types, message),
});

const nativeCase = fc.record({ to: anyDest, value: ethAmount }).map(({ to, value }): Case => ({
  request: tx({ to, value: value.toString() }),
  moves: [{ channel: 'native', from: OURS, to, raw: value, token: null, unbounded: false }],
}));

const transferCase = fc
  .record({ token: anyToken, to: anyDest, amount: tokenAmount, value: fc.constantFrom(0n, 0n, 1n) })
  .map(({ token, to, amount, value }): Case => ({
    request: tx({
      to: token,
      value: value.toString(),
      data: ERC20.encodeFunctionData('transfer', [to, amount]),
    }),
    moves: [
      { channel: 'call', from: OURS, to: token, raw: value, token: null, unbounded: false },
      { channel: 'token-transfer', from: OURS, to, raw: amount, token, unbounded: false },
    ],
  }));

const approveCase = fc
  .record({ token: anyToken, spender: fc.constantFrom(S1, X, OURS), amount: tokenAmount })
  .map(({ token, spender, amount }): Case => ({
    request: tx({ to: token, data: ERC20.encodeFunctionData('approve', [spender, amount]) }),
    moves: [
      { channel: 'call', from: OURS, to: token, raw: 0n, token: null, unbounded: false },
      { channel: 'approval', from: OURS, to: spender, raw: amount, token, unbounded: amount >= 1n << 128n },
    ],
  }));

const safeInner = fc.oneof(
  fc.record({ kind: fc.constant('eth' as const), to: anyDest, value: ethAmount }),
  fc.record({ kind: fc.constant('token' as const), token: anyToken, to: anyDest, amount: tokenAmount }),
);
const safeFields = fc.record({
  inner: safeInner,
  gasPrice: fc.constantFrom(0n, 0n, 1n, 10n ** 9n),
  safeTxGas: fc.constantFrom(0n, 50_000n),
  baseGas: fc.constantFrom(0n, 10_000n, 10n ** 12n),
  gasToken: fc.constantFrom(ZeroAddress, ZeroAddress, T1),
  refundReceiver: fc.constantFrom(ZeroAddress, D1, X),
});
function safeMoves(f: typeof safeFields extends fc.Arbitrary<infer T> ? T : never, typedData: boolean) {
  const moves: Expected[] = [];
  let to: string;
  let value = 0n;
  let data = '0x';
  if (f.inner.kind === 'eth') {
    to = f.inner.to;
    value = f.inner.value;
    moves.push({ channel: 'safe-call', from: SAFE, to, raw: value, token: null, unbounded: false });
  } else {
    to = f.inner.token;
    data = ERC20.encodeFunctionData('transfer', [f.inner.to, f.inner.amount]);
    moves.push({ channel: 'safe-call', from: SAFE, to, raw: 0n, token: null, unbounded: false });
    moves.push({
      channel: 'token-transfer',
      from: SAFE,
      to: f.inner.to,
      raw: f.inner.amount,
      token: f.inner.token,
      unbounded: false,
    });
  }
  if (f.gasPrice !== 0n) {
    const receiver = f.refundReceiver === ZeroAddress ? (typedData ? null : OURS) : f.refundReceiver;
    // docs/evm-requests.md "Safe gas refunds": safeTxGas + 40,000 + 518 per word of data (+ 2); safeTxGas 0 is unbounded
    const words = BigInt(Math.ceil((data.length - 2) / 64) + 2);
    const gas = f.safeTxGas === 0n ? 0n : f.safeTxGas + 40_000n + 518n * words;
    moves.push({
      channel: 'safe-refund',
      from: SAFE,
      to: receiver,
      raw: (gas + f.baseGas) * f.gasPrice,
      token: f.gasToken === ZeroAddress ? null : f.gasToken,
      unbounded: f.safeTxGas === 0n,
    });
  }
  const fields = {
    to,
    value,
    data,
    operation: 0,
    safeTxGas: f.safeTxGas,
    baseGas: f.baseGas,
    gasPrice: f.gasPrice,
    gasToken: f.gasToken,
    refundReceiver: f.refundReceiver,
  };
  return { fields, moves };
}
const safeExecCase = safeFields.map((f): Case => {
  const { fields, moves } = safeMoves(f, false);
  const sig = `0x${OURS.slice(2).padStart(64, '0')}${'00'.repeat(32)}01`;
  const data = SAFE_ABI.encodeFunctionData('execTransaction', [
    fields.to,
    fields.value,
    fields.data,
    0,
    fields.safeTxGas,
    fields.baseGas,
    fields.gasPrice,
    fields.gasToken,
    fields.refundReceiver,
    sig,
  ]);
  return {
    request: tx({ to: SAFE, data }),
    moves: [{ channel: 'call', from: OURS, to: SAFE, raw: 0n, token: null, unbounded: false }, ...moves],
  };
});
const SAFE_TX = [
  ['to', 'address'],
  ['value', 'uint256'],
  ['data', 'bytes'],
  ['operation', 'uint8'],
  ['safeTxGas', 'uint256'],
  ['baseGas', 'uint256'],
  ['gasPrice', 'uint256'],
  ['gasToken', 'address'],
  ['refundReceiver', 'address'],
  ['nonce', 'uint256'],
].map(([name, type]) => ({ name: name!, type: type! }));
const safeTypedCase = safeFields.map((f): Case => {
  const { fields, moves } = safeMoves(f, true);
  return {
    request: typed({ chainId: 1, verifyingContract: SAFE }, { SafeTx: SAFE_TX }, { ...fields, nonce: 0n }),
    moves,
  };
});

const permitCase = fc
  .record({ token: anyToken, spender: fc.constantFrom(S1, X), value: tokenAmount, deadline })
  .map(({ token, spender, value, deadline: d }): Case => ({
    request: typed(
      { name: 'Token', version: '1', chainId: 1, verifyingContract: token },
      {
        Permit: [
          ['owner', 'address'],
          ['spender', 'address'],
          ['value', 'uint256'],
          ['nonce', 'uint256'],
          ['deadline', 'uint256'],
        ].map(([name, type]) => ({ name: name!, type: type! })),
      },
      { owner: OURS, spender, value, nonce: 0n, deadline: d },
    ),
    moves: [
      {
        channel: 'approval',
        from: OURS,
        to: spender,
        raw: value,
        token,
        unbounded: value >= 1n << 128n,
        deadline: iso(d),
      },
    ],
  }));

const DETAILS = [
  ['token', 'address'],
  ['amount', 'uint160'],
  ['expiration', 'uint48'],
  ['nonce', 'uint48'],
].map(([name, type]) => ({ name: name!, type: type! }));
const grant = fc.record({
  token: anyToken,
  amount: fc.oneof(
    tokenAmount.filter((a) => a < 1n << 160n),
    fc.constant((1n << 160n) - 2n),
  ),
  expiration: fc.constantFrom(0n, NOW_S + DAY, NOW_S + 8n * DAY, (1n << 48n) - 1n),
});
const permit2Case = fc
  .record({
    grants: fc.array(grant, { minLength: 1, maxLength: 3 }),
    spender: fc.constantFrom(S1, X),
    batch: fc.boolean(),
  })
  .map(({ grants, spender, batch }): Case => {
    const list = batch ? grants : grants.slice(0, 1);
    const sigDeadline = NOW_S + 3600n;
    const details = list.map((g) => ({ ...g, nonce: 0n }));
    const request = batch
      ? typed(
          { name: 'Permit2', chainId: 1, verifyingContract: PERMIT2 },
          {
            PermitBatch: [
              { name: 'details', type: 'PermitDetails[]' },
              { name: 'spender', type: 'address' },
              { name: 'sigDeadline', type: 'uint256' },
            ],
            PermitDetails: DETAILS,
          },
          { details, spender, sigDeadline },
        )
      : typed(
          { name: 'Permit2', chainId: 1, verifyingContract: PERMIT2 },
          {
            PermitSingle: [
              { name: 'details', type: 'PermitDetails' },
              { name: 'spender', type: 'address' },
              { name: 'sigDeadline', type: 'uint256' },
            ],
            PermitDetails: DETAILS,
          },
          { details: details[0], spender, sigDeadline },
        );
    return {
      request,
      moves: list.map((g) => ({
        channel: 'approval',
        from: OURS,
        to: spender,
        raw: g.amount,
        token: g.token,
        unbounded: g.amount >= 1n << 128n,
        deadline: iso(g.expiration === 0n ? sigDeadline : g.expiration),
      })),
    };
  });

const delegationCase = fc
  .record({
    to: anyDest,
    value: ethAmount,
    delegate: fc.constantFrom(C1, C2),
    chainId: fc.constantFrom(1n, 0n, 5n),
  })
  .map(({ to, value, delegate, chainId }): Case => {
    const auth = AUTHORITY.authorizeSync({ address: delegate, chainId, nonce: 0n });
    return {
      request: tx({
        to,
        value: value.toString(),
        authorizationList: [
          {
            chainId: chainId.toString(),
            address: delegate,
            nonce: '0',
            yParity: auth.signature.yParity,
            r: auth.signature.r,
            s: auth.signature.s,
          },
        ],
      }),
      moves: [
        { channel: 'native', from: OURS, to, raw: value, token: null, unbounded: false },
        {
          channel: 'delegation',
          from: AUTHORITY.address,
          to: delegate,
          raw: 0n,
          token: null,
          unbounded: true,
          chainId: chainId.toString(),
        },
      ],
    };
  });

const anyCase = fc.oneof(
  nativeCase,
  transferCase,
  approveCase,
  safeExecCase,
  safeTypedCase,
  permitCase,
  permit2Case,
  delegationCase,
);

describe('movements first, encoding second (fast-check, seed 20260302, 10,000 requests)', () => {
  it('the summary lists exactly the generated movements, and the request is allowed iff every movement is within the rule', async () => {
    let allowed = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(anyCase, async ({ request, moves }) => {
        const prepared = await prepareRequest(
          {
            chain: 'evm',
            bytes: new TextEncoder().encode(JSON.stringify(request)),
            transport: { kind: 'file' },
          },
          [KEY_A],
          { tokens: TOKENS },
        );
        const listed: Expected[] = prepared.summary.movements.map((m) => ({
          channel: m.channel!,
          from: m.from ?? null,
          to: m.to,
          raw: BigInt(m.raw),
          token: m.asset.type === 'token' ? m.asset.contract : null,
          unbounded: m.unbounded === true,
          ...(m.deadline !== undefined ? { deadline: m.deadline } : {}),
          ...(m.chainId !== undefined ? { chainId: m.chainId } : {}),
        }));
        expect(listed).toEqual(moves);
        const decision = evaluate(prepared.summary, POLICY, [], NOW);
        expect(decision.allowed, JSON.stringify(decision.reasons)).toBe(
          allowedByOracle(moves, maxFeeOf(request as Record<string, unknown>)),
        );
        if (decision.allowed) allowed++;
        else refused++;
      }),
      { seed: 20260302, numRuns: Number(process.env.PROP_RUNS ?? 10_000) },
    );
    // Not vacuous: both verdicts occur often.
    expect(allowed).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
  });
});
