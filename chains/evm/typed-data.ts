/**
 * EIP-712 (eth_signTypedData_v4) documents (pure): strict validation and digest. Encoding and hashing
 * are ethers' TypedDataEncoder; this module refuses what a wallet could hash differently or display wrongly.
 */
import { TypedDataEncoder, concat, getAddress, hexlify, keccak256 } from 'ethers';
import { makeError } from '../../core/errors.js';
import { parseJsonStrict } from '../../core/json.js';
import type { TypedDataDocument } from './types.js';

type Field = { name: string; type: string };

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;
const MAX_TYPES = 64;
const MAX_FIELDS = 128;
const MAX_DEPTH = 16;
/** Bounded work, not just bytes: at most this many elements in one array and values in one message. */
export const MAX_TYPED_ARRAY_LENGTH = 1024;
export const MAX_TYPED_VALUES = 8192;
/** EIP-712 EIP712Domain fields, in the order the standard lists them (the order ethers hashes). */
const DOMAIN_FIELD_TYPES: Record<string, string> = {
  name: 'string',
  version: 'string',
  chainId: 'uint256',
  verifyingContract: 'address',
  salt: 'bytes32',
};

function invalid(message: string, cause?: unknown): never {
  throw makeError('EVM_TYPED_DATA_INVALID', message, {}, cause);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function reason(error: unknown): string {
  if (error instanceof RangeError) return 'too deeply nested';
  const e = error as { shortMessage?: string; message?: string };
  return String(e?.shortMessage ?? e?.message ?? error)
    .split('\n')[0]!
    .slice(0, 160);
}

const ADDRESS_TEXT = /^0x[0-9a-fA-F]{40}$/;
const HEX_TEXT = /^0x[0-9a-fA-F]*$/;
const DECIMAL_TEXT = /^-?\d+$/;
const HEX_QUANTITY_TEXT = /^0x[0-9a-fA-F]+$/;
/** Integer text longer than this is refused before it is parsed (2^256 has 78 decimal digits, 64 hex digits). */
const MAX_INTEGER_TEXT = 80;

function refuseLeaf(path: string, type: string, expected: string): never {
  invalid(`Typed data field ${path} (${type}) must be ${expected}.`);
}

function checkInteger(path: string, type: string, signed: boolean, bits: number, value: unknown): void {
  let n: bigint | undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value);
  else if (
    typeof value === 'string' &&
    value.length <= MAX_INTEGER_TEXT &&
    (DECIMAL_TEXT.test(value) || HEX_QUANTITY_TEXT.test(value))
  )
    n = BigInt(value);
  if (n === undefined) refuseLeaf(path, type, 'a JSON safe integer, a decimal string or a 0x hex string');
  const limit = 1n << BigInt(signed ? bits - 1 : bits);
  if (n >= limit || n < (signed ? -limit : 0n))
    refuseLeaf(
      path,
      type,
      signed ? `between -2^${bits - 1} and 2^${bits - 1} - 1` : `between 0 and 2^${bits} - 1`,
    );
}

function checkAddress(path: string, value: unknown): void {
  const expected = '0x followed by 40 hex digits, with a valid EIP-55 checksum when mixed-case';
  if (typeof value !== 'string' || !ADDRESS_TEXT.test(value)) refuseLeaf(path, 'address', expected);
  try {
    getAddress(value);
  } catch {
    refuseLeaf(path, 'address', expected);
  }
}

/** EIP-712 encodeData hashes each atomic leaf as its declared type: only that type's one JSON form is accepted. */
function checkLeaf(type: string, value: unknown, path: string): void {
  // Coercing a loose form is how a value is shown one way and hashed another (ethers hashes "false" as true).
  const integer = /^(u?)int(\d*)$/.exec(type);
  if (integer) {
    // ethers reads a bare uint / int as uint256 / int256
    const bits = integer[2] === '' ? 256 : Number(integer[2]);
    if (bits % 8 !== 0 || bits < 8 || bits > 256 || (integer[2] !== '' && String(bits) !== integer[2]))
      invalid(`Typed data type ${type} is not an EIP-712 type.`);
    checkInteger(path, type, integer[1] === '', bits, value);
    return;
  }
  const fixedBytes = /^bytes(\d+)$/.exec(type);
  if (fixedBytes) {
    const size = Number(fixedBytes[1]);
    if (size < 1 || size > 32 || String(size) !== fixedBytes[1])
      invalid(`Typed data type ${type} is not an EIP-712 type.`);
    if (typeof value !== 'string' || !HEX_TEXT.test(value) || value.length !== 2 + 2 * size)
      refuseLeaf(path, type, `0x followed by exactly ${2 * size} hex digits`);
    return;
  }
  switch (type) {
    case 'bool':
      if (typeof value !== 'boolean') refuseLeaf(path, type, 'a JSON boolean (true or false)');
      return;
    case 'address':
      return checkAddress(path, value);
    case 'bytes':
      if (typeof value !== 'string' || !HEX_TEXT.test(value) || value.length % 2 !== 0)
        refuseLeaf(path, type, '0x followed by an even number of hex digits');
      return;
    case 'string':
      if (typeof value !== 'string') refuseLeaf(path, type, 'a JSON string');
      return;
    default:
      invalid(`Typed data type ${type} is not an EIP-712 type.`);
  }
}

/** EIP-712 atomic type names (and ethers' aliases uint/int for uint256/int256): not usable as struct names. */
const ATOMIC_TYPE = /^(u?int\d*|bytes\d*|address|bool|string)$/;

function readTypes(raw: unknown): Record<string, Field[]> {
  if (!isRecord(raw)) invalid('Typed data must have a "types" object.');
  const names = Object.keys(raw);
  if (names.length > MAX_TYPES) invalid(`Typed data declares more than ${MAX_TYPES} types.`);
  const types: Record<string, Field[]> = {};
  for (const name of names) {
    if (!IDENTIFIER.test(name))
      invalid(`Typed data type name ${JSON.stringify(name.slice(0, 64))} is not an identifier.`);
    // ethers encodes a type named like an atomic type as that atomic type, whatever fields it declares.
    if (ATOMIC_TYPE.test(name)) invalid(`Typed data type name ${name} is an EIP-712 atomic type.`);
    const fields = raw[name];
    if (!Array.isArray(fields) || fields.length > MAX_FIELDS)
      invalid(`Typed data type ${name} must be a list of at most ${MAX_FIELDS} fields.`);
    const seen = new Set<string>();
    types[name] = fields.map((field: unknown) => {
      if (
        !isRecord(field) ||
        typeof field.name !== 'string' ||
        typeof field.type !== 'string' ||
        Object.keys(field).length !== 2
      ) {
        invalid(`Every field of type ${name} must be exactly {"name", "type"} strings.`);
      }
      if (!IDENTIFIER.test(field.name) || field.type.length > 128)
        invalid(`Type ${name} has an invalid field name or type.`);
      // EIP-712: member names are unique within a struct.
      if (seen.has(field.name)) invalid(`Type ${name} declares the field ${field.name} twice.`);
      seen.add(field.name);
      return { name: field.name, type: field.type };
    });
  }
  return types;
}

/** EIP-712: the declared EIP712Domain must list exactly the domain's fields, in the canonical order ethers hashes. */
function checkDomain(domain: Record<string, unknown>, declared: Field[] | undefined): void {
  if (!declared) invalid('Typed data must declare the EIP712Domain type (eth_signTypedData_v4).');
  for (const [key, value] of Object.entries(domain)) {
    if (!(key in DOMAIN_FIELD_TYPES) || value === null || value === undefined)
      invalid(`The typed data domain has an unknown or empty field ${JSON.stringify(key.slice(0, 64))}.`);
    checkLeaf(DOMAIN_FIELD_TYPES[key]!, value, `domain.${key}`);
  }
  try {
    TypedDataEncoder.hashDomain(domain);
  } catch (error) {
    invalid(`The typed data domain is invalid (${reason(error)}).`, error);
  }
  const expected = Object.entries(DOMAIN_FIELD_TYPES)
    .filter(([name]) => name in domain)
    .map(([name, type]) => ({ name, type }));
  const same =
    expected.length === declared.length &&
    expected.every((field, i) => field.name === declared[i]?.name && field.type === declared[i]?.type);
  if (!same) {
    invalid(
      'The declared EIP712Domain type does not match the domain values (fields, types or order differ).',
    );
  }
}

/** Refuses message fields the types do not declare: a signer must not display data that is not hashed. */
function tooLarge(message: string): never {
  throw makeError('EVM_TYPED_DATA_TOO_LARGE', message);
}

function checkMessageShape(
  types: Record<string, Field[]>,
  typeName: string,
  value: unknown,
  path: string,
  depth: number,
  budget: { values: number },
): void {
  if (depth > MAX_DEPTH) tooLarge(`Typed data is nested deeper than ${MAX_DEPTH} levels.`);
  if (++budget.values > MAX_TYPED_VALUES) tooLarge(`Typed data has more than ${MAX_TYPED_VALUES} values.`);
  const array = typeName.match(/^(.*)\[(\d*)\]$/);
  if (array) {
    if (!Array.isArray(value)) invalid(`A value of type ${typeName} must be an array.`);
    if (value.length > MAX_TYPED_ARRAY_LENGTH)
      tooLarge(`A typed data array has more than ${MAX_TYPED_ARRAY_LENGTH} elements.`);
    if (array[2] !== '' && value.length !== Number(array[2]))
      invalid(`A value of type ${typeName} must have ${array[2]} elements.`);
    value.forEach((item, i) => checkMessageShape(types, array[1]!, item, `${path}[${i}]`, depth + 1, budget));
    return;
  }
  const fields = types[typeName];
  if (!fields) return checkLeaf(typeName, value, path);
  if (!isRecord(value)) invalid(`A value of type ${typeName} must be an object.`);
  const declared = new Set(fields.map((f) => f.name));
  for (const key of Object.keys(value)) {
    if (!declared.has(key))
      invalid(
        `The message has a field ${JSON.stringify(key.slice(0, 64))} that type ${typeName} does not declare.`,
      );
  }
  for (const field of fields) {
    if (!(field.name in value)) invalid(`The message lacks the field ${field.name} of type ${typeName}.`);
    checkMessageShape(types, field.type, value[field.name], `${path}.${field.name}`, depth + 1, budget);
  }
}

/** Validates an eth_signTypedData_v4 document (object or JSON text) and returns it with EIP712Domain split off. */
export function parseTypedData(input: unknown): TypedDataDocument {
  let raw = input;
  if (typeof raw === 'string') {
    raw = parseJsonStrict(raw as string, 'The typed data', 'EVM_TYPED_DATA_INVALID');
  }
  if (!isRecord(raw))
    invalid('Typed data must be a JSON object with types, primaryType, domain and message.');
  const extra = Object.keys(raw).filter((k) => !['types', 'primaryType', 'domain', 'message'].includes(k));
  if (extra.length > 0) invalid(`Typed data has unknown members: ${extra.slice(0, 4).join(', ')}.`);
  const allTypes = readTypes(raw.types);
  if (typeof raw.primaryType !== 'string') invalid('Typed data must name its primaryType.');
  if (!isRecord(raw.domain)) invalid('Typed data must have a "domain" object.');
  if (!isRecord(raw.message)) invalid('Typed data must have a "message" object.');
  const { EIP712Domain: declaredDomain, ...types } = allTypes;
  const domain = raw.domain;
  checkDomain(domain, declaredDomain);
  if (raw.primaryType === 'EIP712Domain') invalid('Signing a bare EIP712Domain is refused.');
  let encoder: TypedDataEncoder;
  try {
    encoder = TypedDataEncoder.from(types);
  } catch (error) {
    // ethers refuses unknown types, circular (recursive) types and unused types.
    invalid(`The typed data types are invalid (${reason(error)}).`, error);
  }
  if (encoder.primaryType !== raw.primaryType) {
    invalid(
      `primaryType ${JSON.stringify(raw.primaryType.slice(0, 64))} is not the root type of the declared types.`,
    );
  }
  checkMessageShape(types, raw.primaryType, raw.message, 'message', 0, { values: 0 });
  const doc: TypedDataDocument = { domain, types, primaryType: raw.primaryType, message: raw.message };
  typedDataDigest(doc);
  return doc;
}

/** EIP-712: keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(message)). */
export function typedDataDigest(doc: TypedDataDocument): string {
  try {
    return keccak256(
      concat([
        '0x1901',
        TypedDataEncoder.hashDomain(doc.domain),
        TypedDataEncoder.from(doc.types).hash(doc.message),
      ]),
    );
  } catch (error) {
    invalid(`The typed data message does not encode (${reason(error)}).`, error);
  }
}

/** EIP-712 domain separator: hashStruct(EIP712Domain). */
export function domainSeparator(doc: TypedDataDocument): string {
  return TypedDataEncoder.hashDomain(doc.domain);
}

/** The eth_signTypedData_v4 payload with values normalized by ethers (for canonical JSON and display). */
export function typedDataPayload(doc: TypedDataDocument): {
  types: Record<string, Field[]>;
  domain: Record<string, unknown>;
  primaryType: string;
  message: Record<string, unknown>;
} {
  try {
    return TypedDataEncoder.getPayload(doc.domain, doc.types, doc.message) as ReturnType<
      typeof typedDataPayload
    >;
  } catch (error) {
    invalid(`The typed data message does not encode (${reason(error)}).`, error);
  }
}

/** The domain for display: chainId in decimal, verifyingContract EIP-55 checksummed (values already validated). */
export function displayDomain(doc: TypedDataDocument): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc.domain)) {
    if (key === 'chainId') out[key] = BigInt(value as string | number).toString();
    else if (key === 'verifyingContract') out[key] = getAddress(value as string);
    else if (key === 'salt') out[key] = hexlify(value as string);
    else out[key] = String(value);
  }
  return out;
}
