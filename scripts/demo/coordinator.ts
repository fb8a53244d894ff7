/**
 * The online side of the demo: builds unsigned requests the way a watch-only coordinator would
 * (Sparrow for the PSBT, MetaMask's QR hardware wallet for the eth-sign-request, a withdrawal service
 * for the JSON request), and checks the signed results independently of coldsign.
 */
import { randomUUID } from 'node:crypto';
import * as bitcoin from 'bitcoinjs-lib';
import { DataType, ETHSignature, EthSignRequest } from '@keystonehq/bc-ur-registry-eth';
import * as scure from '@scure/btc-signer';
import { Interface, Signature, Transaction, getAddress, parseEther, parseUnits } from 'ethers';
import { encodeUrParts } from '../../qr/index.js';

/** USDC on Ethereum mainnet (EIP-55 checksummed). */
export const USDC = getAddress('0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48');

/** A previous transaction paying `sats` to `script`, as the wallet's UTXO set would hold it (BIP-174 non_witness_utxo). */
function fundingTx(script: Uint8Array, sats: bigint, salt: number): bitcoin.Transaction {
  const tx = new bitcoin.Transaction();
  tx.version = 2;
  const previous = new Uint8Array(32).fill(0xc0);
  new DataView(previous.buffer).setUint32(0, salt);
  tx.addInput(previous, 0);
  tx.addOutput(script, sats);
  return tx;
}

/** A PSBT spending two UTXOs of our P2WPKH key to `to`, with change back to us (as Sparrow builds it). */
export function buildPsbt(
  ourAddress: string,
  to: string,
  sendSats: bigint,
  feeSats: bigint,
  utxoSats: bigint[],
): string {
  const network = bitcoin.networks.bitcoin;
  const ourScript = bitcoin.address.toOutputScript(ourAddress, network);
  const psbt = new bitcoin.Psbt({ network });
  utxoSats.forEach((sats, i) => {
    const prev = fundingTx(ourScript, sats, i + 1);
    psbt.addInput({
      hash: prev.getId(),
      index: 0,
      witnessUtxo: { script: ourScript, value: sats },
      nonWitnessUtxo: prev.toBuffer(),
    });
  });
  const total = utxoSats.reduce((a, b) => a + b, 0n);
  psbt.addOutput({ address: to, value: sendSats });
  psbt.addOutput({ address: ourAddress, value: total - sendSats - feeSats });
  return psbt.toBase64();
}

/** MetaMask's QR hardware wallet flow: an EIP-1559 transaction as an ERC-4527 eth-sign-request UR. */
/** The key's pairing as the wallet learned it from `coldsign keys export --format metamask` (path, fingerprint). */
export interface WalletPairing {
  path: string;
  fingerprint: string;
}

export function ethSignRequestUr(
  from: string,
  to: string,
  ether: string,
  nonce: number,
  pairing: WalletPairing,
): { parts: string[]; unsignedTx: string } {
  const tx = Transaction.from({
    type: 2,
    chainId: 1,
    nonce,
    to,
    value: parseEther(ether),
    gasLimit: 21000,
    maxFeePerGas: parseUnits('30', 'gwei'),
    maxPriorityFeePerGas: parseUnits('1', 'gwei'),
  });
  const request = EthSignRequest.constructETHRequest(
    Buffer.from(tx.unsignedSerialized.slice(2), 'hex'),
    DataType.typedTransaction,
    pairing.path,
    pairing.fingerprint,
    randomUUID(),
    1,
    from,
    'coldsign demo coordinator',
  );
  return {
    parts: encodeUrParts('eth-sign-request', new Uint8Array(request.toCBOR()), 400),
    unsignedTx: tx.unsignedSerialized,
  };
}

/** What MetaMask does with the eth-signature UR: rebuilds the signed transaction and recovers its sender. */
export function checkEthSignature(cbor: Uint8Array, unsignedTx: string): { from: string; hash: string } {
  const signature = ETHSignature.fromCBOR(Buffer.from(cbor)).getSignature();
  const v = signature[64]!;
  // ERC-4527 r‖s‖v: v is the yParity for typed transactions, 27/28 or EIP-155 for legacy ones.
  const yParity = (v <= 1 ? v : v <= 28 ? v - 27 : (v - 35) % 2) as 0 | 1;
  const tx = Transaction.from(unsignedTx);
  tx.signature = Signature.from({
    r: `0x${signature.subarray(0, 32).toString('hex')}`,
    s: `0x${signature.subarray(32, 64).toString('hex')}`,
    yParity,
  });
  return { from: tx.from!, hash: tx.hash! };
}

/** A withdrawal service's JSON request: an ERC-20 transfer (docs/evm-requests.md). */
export function erc20TransferRequest(
  from: string,
  token: string,
  to: string,
  units: string,
  decimals: number,
  nonce: number,
): string {
  const data = new Interface(['function transfer(address to, uint256 amount)']).encodeFunctionData(
    'transfer',
    [to, parseUnits(units, decimals)],
  );
  return JSON.stringify(
    {
      type: 'transaction',
      from,
      txType: 2,
      chainId: 1,
      nonce,
      to: token,
      value: '0',
      data,
      gasLimit: 65000,
      maxFeePerGas: parseUnits('30', 'gwei').toString(),
      maxPriorityFeePerGas: parseUnits('1', 'gwei').toString(),
    },
    null,
    2,
  );
}

/** Checks a signed PSBT with @scure/btc-signer (not the library coldsign signs with): finalizes and returns the txid. */
export function checkSignedPsbt(signed: Uint8Array): string {
  const tx = scure.Transaction.fromPSBT(signed);
  // coldsign finalizes a PSBT whose inputs are all complete (BIP-174 finalizer role); otherwise finalize here.
  if (!tx.isFinal) tx.finalize();
  return tx.id;
}

/** Checks a signed raw transaction: ethers recovers the sender from the signature. */
export function checkSignedTransaction(rawHex: string): { from: string; hash: string } {
  const tx = Transaction.from(rawHex.trim());
  if (!tx.from || !tx.hash) throw new Error('the transaction is not signed');
  return { from: tx.from, hash: tx.hash };
}
