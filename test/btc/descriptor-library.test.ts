/**
 * core/btc-wallet.ts is pure: the output descriptor library (BIP-380) is given to it by the I/O layer
 * (store/descriptor-library.ts). Without it a wallet is refused with INTERNAL, never misread as invalid.
 */
import { describe, expect, it, vi } from 'vitest';

// A 2-of-2 P2WSH of two BIP-32 test vector keys (BIP-380's checksum omitted: optional).
const DESCRIPTOR =
  'wsh(multi(2,03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd,0339a36013301597daef41fbe593a02cc513d0b55527ec2df1050e2e8ff49c85c2))';

describe('the descriptor library is provided by the I/O layer', () => {
  it('a fresh core module without it refuses with INTERNAL; once store/ provides it, the wallet is read', async () => {
    vi.resetModules();
    const core = await import('../../core/btc-wallet.js');
    expect(() => core.parseWalletDescriptor('w', DESCRIPTOR, 'mainnet')).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
    await import('../../store/descriptor-library.js');
    const wallet = core.parseWalletDescriptor('w', DESCRIPTOR, 'mainnet');
    expect(wallet).toMatchObject({ kind: 'p2wsh-multisig', threshold: 2 });
    expect(wallet.keys).toHaveLength(2);
  });
});
