/** Messages to the operator: errors with their stable code, and plain status lines (no spinner without a reason). */
import { errorOf, type AppError } from '../api.js';
import { h } from './dom.js';

/** Plain-words explanations of the codes an operator can meet, added under the appliance's own sentence. */
const EXPLANATIONS: Record<string, string> = {
  HSM_PIN_INCORRECT:
    'The HSM counts wrong attempts: after too many it locks the PIN, and only the security officer can unlock it. Check the PIN before trying again.',
  HSM_PIN_LOCKED:
    'The HSM has locked the user PIN after too many wrong attempts. The security officer must reset it with the SO PIN; coldsign cannot unlock it.',
  HOME_NOT_INITIALIZED:
    'This machine has no coldsign home yet: initialize it with `coldsign init` (see the README), then restart the app.',
  HSM_TOKEN_NOT_FOUND: 'Check that the HSM is connected and that the configured token label is right.',
  HSM_MODULE_NOT_FOUND: 'The PKCS#11 library named in the configuration is missing on this machine.',
  POLICY_DENIED:
    'No rule of the active policy allows this request, so it cannot be signed. The reasons are listed on the review.',
  APPROVALS_MISSING: 'This request needs more officer approvals before it can be signed.',
  OFFICER_PASSPHRASE_INCORRECT: 'The passphrase does not open this officer key file.',
  QR_INCOMPLETE: 'Keep scanning: not every frame of the animated QR has been received yet.',
  QR_MIXED_TRANSFER:
    'Frames from two different QR codes were mixed. Start the scan again and show only one code.',
  INPUT_UNRECOGNIZED:
    'The scanned data is not a request coldsign accepts (PSBT, EVM transaction or request, UR).',
  UR_INVALID: 'The QR code looks like a UR frame but is damaged or not a valid UR.',
  POLICY_SIGNATURE_INVALID:
    'The policy file is not signed correctly by the enrolled officers. Nothing was changed.',
  POLICY_QUORUM_MISSING: 'The policy file does not carry enough officer signatures. Nothing was changed.',
  POLICY_VERSION_STALE: 'The policy file is not newer than the active policy. Nothing was changed.',
  POLICY_APPLIANCE_MISMATCH:
    'The policy file was not signed for this appliance (its "appliance" is not this audit public key). Nothing was changed.',
  AUDIT_TAMPERED: 'The audit log has been altered. Stop and call the security officer.',
};

export function errorBox(error: unknown): HTMLElement {
  const e: AppError = errorOf(error);
  const explanation = EXPLANATIONS[e.code];
  return h(
    'div',
    { className: 'notice error', role: 'alert', 'data-code': e.code },
    h('p', { className: 'notice-title' }, e.message),
    explanation ? h('p', {}, explanation) : null,
    h('p', { className: 'code' }, `Code ${e.code}`),
  );
}

export function infoBox(text: string): HTMLElement {
  return h('div', { className: 'notice info', role: 'status' }, h('p', {}, text));
}

/** Shows `message` in `slot` while `work` runs (the reason for the wait, always), then clears it. */
export async function withStatus<T>(slot: HTMLElement, message: string, work: () => Promise<T>): Promise<T> {
  slot.replaceChildren(h('div', { className: 'notice busy', role: 'status' }, h('p', {}, message)));
  try {
    return await work();
  } finally {
    slot.replaceChildren();
  }
}
