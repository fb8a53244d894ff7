/**
 * Gives core/btc-wallet.ts (pure) its output descriptor library, @bitcoinerlab/descriptors (BIP-380), loaded
 * by this I/O layer on first use only: its curve self-tests cost a few hundred milliseconds that only a
 * policy with registered wallets needs. Imported for its effect by the modules that read policies and wallets.
 */
import { createRequire } from 'node:module';
import { provideDescriptorLibrary, type DescriptorLibrary } from '../core/btc-wallet.js';

provideDescriptorLibrary(
  () => createRequire(import.meta.url)('@bitcoinerlab/descriptors') as DescriptorLibrary,
);
