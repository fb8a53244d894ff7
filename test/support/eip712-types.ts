/**
 * EIP-712 type tables the tests build typed-data requests from (EIP712Domain is left to each builder, since
 * it lists only the domain fields a document uses). Shared so that every test signs the same structs.
 */
import type { TypedDataField } from 'ethers';

type Types = Record<string, TypedDataField[]>;

/** EIP-2612 `Permit` (ERC-20 approval by signature). */
export const PERMIT_TYPES: Types = {
  Permit: [
    { name: 'owner', type: 'address' },
    { name: 'spender', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
};

/** Uniswap Permit2's allowance details (AllowanceTransfer). */
export const PERMIT_DETAILS: TypedDataField[] = [
  { name: 'token', type: 'address' },
  { name: 'amount', type: 'uint160' },
  { name: 'expiration', type: 'uint48' },
  { name: 'nonce', type: 'uint48' },
];

/** Permit2 `PermitSingle`: one token's allowance for a spender. */
export const PERMIT_SINGLE_TYPES: Types = {
  PermitSingle: [
    { name: 'details', type: 'PermitDetails' },
    { name: 'spender', type: 'address' },
    { name: 'sigDeadline', type: 'uint256' },
  ],
  PermitDetails: PERMIT_DETAILS,
};

/** Permit2 `PermitBatch`: several tokens' allowances for one spender. */
export const PERMIT_BATCH_TYPES: Types = {
  PermitBatch: [
    { name: 'details', type: 'PermitDetails[]' },
    { name: 'spender', type: 'address' },
    { name: 'sigDeadline', type: 'uint256' },
  ],
  PermitDetails: PERMIT_DETAILS,
};

const TOKEN_PERMISSIONS: TypedDataField[] = [
  { name: 'token', type: 'address' },
  { name: 'amount', type: 'uint256' },
];

/** Permit2 `PermitTransferFrom` (SignatureTransfer): a one-time transfer of `permitted`. */
export const PERMIT_TRANSFER_FROM_TYPES: Types = {
  PermitTransferFrom: [
    { name: 'permitted', type: 'TokenPermissions' },
    { name: 'spender', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
  TokenPermissions: TOKEN_PERMISSIONS,
};

/** Permit2 `PermitBatchTransferFrom`: one-time transfers of every entry of `permitted`. */
export const PERMIT_BATCH_TRANSFER_FROM_TYPES: Types = {
  PermitBatchTransferFrom: [
    { name: 'permitted', type: 'TokenPermissions[]' },
    { name: 'spender', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
  TokenPermissions: TOKEN_PERMISSIONS,
};

/** Safe (1.3.0) `SafeTx`: the transaction a Safe's owners sign. */
export const SAFE_TX_TYPES: Types = {
  SafeTx: [
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'data', type: 'bytes' },
    { name: 'operation', type: 'uint8' },
    { name: 'safeTxGas', type: 'uint256' },
    { name: 'baseGas', type: 'uint256' },
    { name: 'gasPrice', type: 'uint256' },
    { name: 'gasToken', type: 'address' },
    { name: 'refundReceiver', type: 'address' },
    { name: 'nonce', type: 'uint256' },
  ],
};

/** The `Mail` example of EIP-712 itself (Person from, Person to, contents). */
export const MAIL_TYPES: Types = {
  Person: [
    { name: 'name', type: 'string' },
    { name: 'wallet', type: 'address' },
  ],
  Mail: [
    { name: 'from', type: 'Person' },
    { name: 'to', type: 'Person' },
    { name: 'contents', type: 'string' },
  ],
};

/** EIP-712's `EIP712Domain` type: the fields `domain` uses, in the order the EIP lists them. */
export function eip712DomainType(domain: Record<string, unknown>): TypedDataField[] {
  const fields: Array<[string, string]> = [
    ['name', 'string'],
    ['version', 'string'],
    ['chainId', 'uint256'],
    ['verifyingContract', 'address'],
  ];
  return fields.filter(([name]) => name in domain).map(([name, type]) => ({ name, type }));
}
