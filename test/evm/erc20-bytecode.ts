/**
 * A minimal ERC-20 (transfer, balanceOf, Transfer event) assembled here from Yellow Paper opcodes, so the
 * node test needs no compiler and no third-party bytecode. Balances live at storage slot = holder address.
 * The constructor credits the whole supply to the deployer.
 */
import { id } from 'ethers';

const OP: Record<string, number> = {
  STOP: 0x00,
  ADD: 0x01,
  SUB: 0x03,
  LT: 0x10,
  EQ: 0x14,
  AND: 0x16,
  SHR: 0x1c,
  CALLER: 0x33,
  CALLDATALOAD: 0x35,
  CODECOPY: 0x39,
  MSTORE: 0x52,
  SLOAD: 0x54,
  SSTORE: 0x55,
  JUMPI: 0x57,
  JUMPDEST: 0x5b,
  DUP1: 0x80,
  DUP2: 0x81,
  DUP3: 0x82,
  SWAP1: 0x90,
  LOG3: 0xa3,
  RETURN: 0xf3,
  REVERT: 0xfd,
};

type Token = string | { push: string } | { label: string } | { ref: string };

/** Two-pass assembler: opcodes by name, {push: hex} (PUSH1–PUSH32), {label}, {ref} (PUSH2 of a label). */
function assemble(program: Token[]): string {
  const size = (t: Token): number =>
    typeof t === 'string' || 'label' in t ? 1 : 'push' in t ? 1 + t.push.length / 2 : 3;
  const labels = new Map<string, number>();
  let offset = 0;
  for (const t of program) {
    if (typeof t !== 'string' && 'label' in t) labels.set(t.label, offset);
    offset += size(t);
  }
  let out = '';
  for (const t of program) {
    if (typeof t === 'string') {
      const code = OP[t];
      if (code === undefined) throw new Error(`unknown opcode ${t}`);
      out += code.toString(16).padStart(2, '0');
    } else if ('push' in t) {
      out += (0x5f + t.push.length / 2).toString(16) + t.push;
    } else if ('ref' in t) {
      out += '61' + labels.get(t.ref)!.toString(16).padStart(4, '0');
    } else {
      out += '5b';
    }
  }
  return out;
}

const ADDRESS_MASK = 'ff'.repeat(20);
const TRANSFER_TOPIC = id('Transfer(address,address,uint256)').slice(2);

const RUNTIME = assemble([
  { push: '00' },
  'CALLDATALOAD',
  { push: 'e0' },
  'SHR',
  'DUP1',
  { push: 'a9059cbb' },
  'EQ',
  { ref: 'transfer' },
  'JUMPI',
  'DUP1',
  { push: '70a08231' },
  'EQ',
  { ref: 'balanceOf' },
  'JUMPI',
  { label: 'fail' },
  { push: '00' },
  'DUP1',
  'REVERT',
  // transfer(address to, uint256 amount): balance[caller] -= amount (revert if short); balance[to] += amount
  { label: 'transfer' },
  { push: '24' },
  'CALLDATALOAD',
  'CALLER',
  'SLOAD',
  'DUP2',
  'DUP2',
  'LT',
  { ref: 'fail' },
  'JUMPI',
  'DUP2',
  'SWAP1',
  'SUB',
  'CALLER',
  'SSTORE',
  { push: '04' },
  'CALLDATALOAD',
  { push: ADDRESS_MASK },
  'AND',
  'DUP1',
  'SLOAD',
  'DUP3',
  'ADD',
  'SWAP1',
  'SSTORE',
  { push: '00' },
  'MSTORE',
  { push: '04' },
  'CALLDATALOAD',
  { push: ADDRESS_MASK },
  'AND',
  'CALLER',
  { push: TRANSFER_TOPIC },
  { push: '20' },
  { push: '00' },
  'LOG3',
  { push: '01' },
  { push: '00' },
  'MSTORE',
  { push: '20' },
  { push: '00' },
  'RETURN',
  // balanceOf(address holder)
  { label: 'balanceOf' },
  { push: '04' },
  'CALLDATALOAD',
  'SLOAD',
  { push: '00' },
  'MSTORE',
  { push: '20' },
  { push: '00' },
  'RETURN',
]);

/** Creation code: balance[deployer] = supply; return the runtime code. */
export function erc20CreationCode(supply: bigint): string {
  const supplyHex = supply.toString(16).padStart(64, '0');
  const runtimeLength = (RUNTIME.length / 2).toString(16).padStart(4, '0');
  const header = (offset: string) =>
    assemble([
      { push: supplyHex },
      'CALLER',
      'SSTORE',
      { push: runtimeLength },
      'DUP1',
      { push: offset },
      { push: '00' },
      'CODECOPY',
      { push: '00' },
      'RETURN',
    ]);
  const headerLength = header('0000').length / 2;
  return `0x${header(headerLength.toString(16).padStart(4, '0'))}${RUNTIME}`;
}
