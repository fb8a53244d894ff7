/**
 * Officer keys as the front ends use them: made and unlocked on the officer's side (Ed25519, encrypted with
 * the officer's passphrase), they sign policies and approvals. No HSM and no database are involved.
 */
export {
  generateOfficerKey,
  loadOfficerKey,
  signApproval,
  signPolicy,
  type OfficerKey,
} from '../store/officer-keys.js';
export { parseOfficerArgument } from '../store/officers.js';
