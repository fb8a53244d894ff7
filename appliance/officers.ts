/**
 * Officer keys as the CLI uses them: made and unlocked on the officer's side (Ed25519, encrypted with the officer's
 * passphrase), they sign policies and approvals. No HSM and no database are involved. Only what cli/ uses: the ESLint
 * layer rules let cli/ reach the store through appliance/ only.
 */
export { generateOfficerKey, loadOfficerKey, signApproval, signPolicy } from '../store/officer-keys.js';
