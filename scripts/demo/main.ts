/**
 * The demo: a day in the secure room, on the embedded default (SoftHSM2 token and SQLite inside
 * COLDSIGN_HOME). The online side builds unsigned requests and renders them as QR frames; the appliance
 * (the real `coldsign` command) reads them, shows each review, refuses what the policy refuses, collects
 * officer approvals, signs inside the HSM, writes signed files and QR frames; then the results are checked
 * independently and the audit log is verified.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as bitcoin from 'bitcoinjs-lib';
import {
  buildPsbt,
  checkEthSignature,
  checkSignedPsbt,
  checkSignedTransaction,
  erc20TransferRequest,
  ethSignRequestUr,
  USDC,
} from './coordinator.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'coldsign');
const home = process.env.COLDSIGN_HOME ?? join(process.cwd(), 'demo-home', 'home');
// The requests and signed outputs live beside the home, never inside it (coldsign refuses outputs in its home)
const work = `${home}-files`;
const MARKER = join(work, '.coldsign-demo');
// Demo secrets only: in the secure room the operator and officers type them at prompts.
const PIN = process.env.COLDSIGN_PIN || 'demo-pin-2468';
const PASSPHRASES: Record<string, string> = { alice: 'alice-demo-passphrase', bob: 'bob-demo-passphrase' };

// Destinations of the demo policy (fixed, well-formed addresses that nobody uses).
const EXCHANGE = bitcoin.payments.p2wpkh({
  pubkey: Buffer.from('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'hex'),
}).address!;
const OPS = '0x1111111111111111111111111111111111111111';
const PAYROLL = '0x2222222222222222222222222222222222222222';
const STRANGER = '0x3333333333333333333333333333333333333333';

let step = 0;
const rel = (path: string) => relative(process.cwd(), path) || '.';

function say(text: string): void {
  console.log(`\n${'='.repeat(78)}\n${++step}. ${text}\n${'='.repeat(78)}`);
}

function coldsign(
  args: string[],
  options: { expect?: number; env?: Record<string, string>; quiet?: boolean } = {},
): string {
  const expect = options.expect ?? 0;
  console.log(`\n$ coldsign ${args.map((a) => (a.startsWith('/') ? rel(a) : a)).join(' ')}`);
  const result = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, COLDSIGN_HOME: home, COLDSIGN_PIN: PIN, ...options.env },
    encoding: 'utf8',
  });
  const out = result.stdout.trimEnd();
  if (out && !options.quiet) console.log(out.replace(/^/gm, '  '));
  if (result.stderr.trim()) console.log(result.stderr.trimEnd().replace(/^/gm, '  '));
  if (result.status !== expect) {
    console.error(
      `\ndemo: expected exit ${expect} from \`coldsign ${args.join(' ')}\`, got ${result.status}.`,
    );
    process.exit(1);
  }
  if (expect !== 0) console.log(`  (exit ${result.status}, as expected)`);
  return result.stdout;
}

function frames(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => join(dir, f));
}

/** An empty folder made for the demo (mkdir before the run) is as good as none. */
function absentOrEmptyFolder(path: string): boolean {
  if (!existsSync(path)) return true;
  return statSync(path).isDirectory() && readdirSync(path).length === 0;
}

// A home and its folder made by an earlier run (the folder carries the marker) are removed; anything else is kept
if (!absentOrEmptyFolder(home) || existsSync(work)) {
  if (!existsSync(MARKER)) {
    console.error(
      `demo: ${home} or ${work} exists and is not the demo's; set COLDSIGN_HOME to a new folder.`,
    );
    process.exit(2);
  }
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
mkdirSync(work, { recursive: true });
writeFileSync(MARKER, 'made by the coldsign demo; removed and recreated (with its home) by each run\n');
const online = join(work, 'online');
const room = join(work, 'secure-room');
mkdirSync(online, { recursive: true });
mkdirSync(room, { recursive: true });

console.log(
  `coldsign demo: a day in the secure room. Home: ${rel(home)} (SoftHSM2 token + SQLite inside it).`,
);

say('Two officers make their keys (Ed25519, encrypted PEM); the public keys are enrolled at init');
const officerKeys: Record<string, string> = {};
for (const name of ['alice', 'bob']) {
  const out = coldsign(['officer', 'keygen', name, '--out', join(room, `${name}.pem`)], {
    env: { COLDSIGN_PASSPHRASE: PASSPHRASES[name]! },
  });
  officerKeys[name] = out.trim().split('\n').at(-1)!;
}

say('The appliance is initialized: embedded HSM token, audit key inside it, officers with a quorum of 2');
coldsign(
  ['init', '--officer', `alice=${officerKeys.alice}`, '--officer', `bob=${officerKeys.bob}`, '--quorum', '2'],
  {
    env: { COLDSIGN_SO_PIN: 'demo-so-pin-1357' },
  },
);

say('Keys are generated inside the HSM; only public keys and addresses come out');
coldsign(['keys', 'generate', '--chain', 'btc', '--label', 'vault-btc'], { quiet: true });
coldsign(['keys', 'generate', '--chain', 'evm', '--label', 'vault-eth'], { quiet: true });
const keys = JSON.parse(coldsign(['keys', 'list', '--json'], { quiet: true })).keys as Array<{
  label: string;
  address: string;
}>;
const btcAddress = keys.find((k) => k.label === 'vault-btc')!.address;
const ethAddress = keys.find((k) => k.label === 'vault-eth')!.address;
coldsign(['keys', 'list']);
say(
  'MetaMask pairs with the appliance from a crypto-account QR (paths and a source fingerprint, no secrets)',
);
const pairing = JSON.parse(
  coldsign(['keys', 'export', '--format', 'metamask', '--qr', join(online, 'qr-pairing'), '--json'], {
    quiet: true,
  }),
) as { fingerprint: string; accounts: Array<{ path: string }> };
const walletPairing = { path: pairing.accounts[0]!.path, fingerprint: pairing.fingerprint };
coldsign(['keys', 'export', '--format', 'metamask']);

say('The officers sign a policy (allowlists, limits, velocity, approvals) and the appliance applies it');
const policyFile = join(room, 'policy-v1.json');
// The appliance a policy is for: its audit public key, as init printed it and `policy show` repeats it.
const appliance = (
  JSON.parse(coldsign(['policy', 'show', '--json'], { quiet: true })) as { appliance: string }
).appliance;
writeFileSync(
  policyFile,
  JSON.stringify(
    {
      version: 1,
      description: 'Demo treasury policy',
      appliance,
      rules: [
        {
          id: 'btc-cold-to-exchange',
          chain: 'btc',
          network: 'mainnet',
          keys: ['vault-btc'],
          destinations: [{ address: EXCHANGE, label: 'Exchange hot wallet' }],
          maxAmount: '0.5',
          maxFeeRate: 50,
          velocity: { window: '24h', maxAmount: '2', maxCount: 10 },
          approvals: 0,
        },
        {
          id: 'btc-large-to-exchange',
          chain: 'btc',
          network: 'mainnet',
          keys: ['vault-btc'],
          destinations: [{ address: EXCHANGE, label: 'Exchange hot wallet' }],
          maxAmount: '5',
          maxFeeRate: 50,
          approvals: 2,
        },
        {
          id: 'eth-ops',
          chain: 'evm',
          chainIds: [1],
          keys: ['vault-eth'],
          kinds: ['transfer'],
          destinations: [{ address: OPS, label: 'Operations wallet' }],
          maxAmount: '1',
          maxFee: '0.01',
          approvals: 0,
        },
        {
          id: 'usdc-payroll',
          chain: 'evm',
          chainIds: [1],
          keys: ['vault-eth'],
          kinds: ['token_transfer'],
          tokens: [{ contract: USDC, symbol: 'USDC', decimals: 6, maxAmount: '25000' }],
          destinations: [{ address: PAYROLL, label: 'Payroll' }],
          maxFee: '0.01',
          approvals: 1,
        },
      ],
    },
    null,
    2,
  ),
);
for (const name of ['alice', 'bob']) {
  coldsign(['policy', 'sign', policyFile, '--key', join(room, `${name}.pem`)], {
    env: { COLDSIGN_PASSPHRASE: PASSPHRASES[name]! },
  });
}
coldsign(['policy', 'apply', policyFile]);
coldsign(['policy', 'show']);

say('Online, the coordinators build unsigned requests and show them as QR codes');
const psbtSmall = join(online, 'withdrawal-0.1btc.psbt');
writeFileSync(psbtSmall, buildPsbt(btcAddress, EXCHANGE, 10_000_000n, 2_820n, [8_000_000n, 5_000_000n]));
coldsign(['qr', 'encode', psbtSmall, '--out', join(online, 'qr-psbt-small')]);
const ethParts = join(online, 'metamask-0.5eth.ur.txt');
const ethRequest = ethSignRequestUr(ethAddress, OPS, '0.5', 0, walletPairing);
writeFileSync(ethParts, `${ethRequest.parts.join('\n')}\n`);
coldsign(['qr', 'encode', ethParts, '--out', join(online, 'qr-eth')]);
const usdcRequest = join(online, 'payroll-12000usdc.json');
writeFileSync(usdcRequest, erc20TransferRequest(ethAddress, USDC, PAYROLL, '12000', 6, 1));
console.log(`  payroll request written to ${rel(usdcRequest)} (handed over as a file)`);
const strangerParts = join(online, 'unknown-destination.ur.txt');
writeFileSync(
  strangerParts,
  `${ethSignRequestUr(ethAddress, STRANGER, '0.8', 2, walletPairing).parts.join('\n')}\n`,
);
coldsign(['qr', 'encode', strangerParts, '--out', join(online, 'qr-stranger')]);
const psbtLarge = join(online, 'withdrawal-2btc.psbt');
writeFileSync(psbtLarge, buildPsbt(btcAddress, EXCHANGE, 200_000_000n, 3_100n, [150_000_000n, 90_000_000n]));
coldsign(['qr', 'encode', psbtLarge, '--out', join(online, 'qr-psbt-large')]);

say(
  'The appliance scans the 0.1 BTC withdrawal (animated QR), reviews it and signs it: within limits, no approval needed',
);
const signedSmall = join(room, 'withdrawal-0.1btc.signed.psbt');
coldsign([
  'sign',
  ...frames(join(online, 'qr-psbt-small')),
  '--out',
  signedSmall,
  '--format',
  'base64',
  '--qr',
  join(room, 'qr-signed-psbt-small'),
]);

say(
  'MetaMask sends 0.5 ETH to the operations wallet (eth-sign-request): signed, answered with an eth-signature QR',
);
const signedEth = join(room, 'metamask-0.5eth.eth-signature.ur.txt');
coldsign([
  'sign',
  ...frames(join(online, 'qr-eth')),
  '--out',
  signedEth,
  '--qr',
  join(room, 'qr-signed-eth'),
]);

say('A request to an address on no allowlist is refused by the policy: nothing is signed, nothing written');
const refusedOut = join(room, 'unknown-destination.signed.txt');
coldsign(['sign', ...frames(join(online, 'qr-stranger')), '--out', refusedOut], { expect: 4 });
if (existsSync(refusedOut)) throw new Error('a refused request produced an output file');

say("The 12,000 USDC payroll needs one officer approval: refused without it, signed with Alice's");
const signedUsdc = join(room, 'payroll-12000usdc.signed-tx.hex');
coldsign(['sign', usdcRequest, '--out', signedUsdc], { expect: 4 });
const aliceUsdc = join(room, 'approval-payroll-alice.json');
coldsign(['approve', usdcRequest, '--key', join(room, 'alice.pem'), '--out', aliceUsdc], {
  env: { COLDSIGN_PASSPHRASE: PASSPHRASES.alice! },
  quiet: true,
});
coldsign(['sign', usdcRequest, '--out', signedUsdc, '--approval', aliceUsdc]);

say('The 2 BTC withdrawal exceeds the 0.5 BTC rule: the large-withdrawal rule needs both officers');
const largeFrames = frames(join(online, 'qr-psbt-large'));
const approvals: string[] = [];
for (const name of ['alice', 'bob']) {
  const file = join(room, `approval-2btc-${name}.json`);
  coldsign(['approve', ...largeFrames, '--key', join(room, `${name}.pem`), '--out', file], {
    env: { COLDSIGN_PASSPHRASE: PASSPHRASES[name]! },
    quiet: true,
  });
  approvals.push('--approval', file);
}
const signedLarge = join(room, 'withdrawal-2btc.signed.psbt');
coldsign(['sign', ...largeFrames, '--out', signedLarge, '--format', 'psbt', ...approvals, '--json'], {
  quiet: true,
});
console.log(`  signed with the approvals of alice and bob: ${rel(signedLarge)}`);

say('Back online: the signed results are checked with independent libraries');
const smallTxid = checkSignedPsbt(
  Uint8Array.from(Buffer.from(readFileSync(signedSmall, 'utf8').trim(), 'base64')),
);
console.log(`  0.1 BTC PSBT: finalized by @scure/btc-signer, txid ${smallTxid}`);
const largeTxid = checkSignedPsbt(new Uint8Array(readFileSync(signedLarge)));
console.log(`  2 BTC PSBT: finalized by @scure/btc-signer, txid ${largeTxid}`);
const usdc = checkSignedTransaction(readFileSync(signedUsdc, 'utf8'));
if (usdc.from !== ethAddress) throw new Error('the payroll transaction is not signed by vault-eth');
console.log(`  payroll transaction: ethers recovers the sender ${usdc.from} (vault-eth), hash ${usdc.hash}`);
const ethSignatureParts = join(online, 'scanned-eth-signature.cbor');
coldsign(['qr', 'decode', ...frames(join(room, 'qr-signed-eth')), '--out', ethSignatureParts], {
  quiet: true,
});
const ethSigned = checkEthSignature(new Uint8Array(readFileSync(ethSignatureParts)), ethRequest.unsignedTx);
if (ethSigned.from !== ethAddress) throw new Error('the eth-signature does not recover vault-eth');
console.log(
  `  0.5 ETH eth-signature QR: scanned back; ethers rebuilds the transaction and recovers ${ethSigned.from} (vault-eth)`,
);

say('The auditor verifies the tamper-evident log, exports it and verifies the export offline');
coldsign(['audit', 'verify']);
const exportFile = join(room, 'audit-export.jsonl');
coldsign(['audit', 'export', '--out', exportFile]);
coldsign(['audit', 'verify', '--file', exportFile]);

console.log(`
Demo finished. In one morning the appliance:
  - signed a 0.1 BTC withdrawal and a 0.5 ETH transfer scanned from animated QR codes;
  - refused a transfer to an unknown address (policy), and a payroll without its approval;
  - signed the payroll once Alice approved, and a 2 BTC withdrawal once Alice and Bob approved;
  - kept every private key inside the HSM and every decision in an audit log anchored in the HSM.
Files: ${rel(work)} (online/ holds the requests, secure-room/ the signed results and QR frames).`);
