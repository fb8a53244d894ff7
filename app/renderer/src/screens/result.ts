/**
 * Result: the signed output as an animated QR for the online coordinator (speed and density adjustable: the same
 * message re-split into larger or smaller UR fragments, BCR-2020-005), and saved to a file.
 */
import type { SignedOutput } from '../../../../appliance/api.js';
import { assembleUr } from '../../../../qr/assembler.js';
import { encodeUrParts, type UrMessage } from '../../../../qr/ur.js';
import { DEFAULT_FRAGMENT_BYTES, MAX_FRAGMENTS, urFragmentCount } from '../../../../qr/ur-parts.js';
import { go, onLeave, resetRequest, state } from '../state.js';
import { h, saveBytes } from '../ui/dom.js';
import { animatedQr } from '../ui/qr.js';

/** Fragment sizes (bytes per QR frame) of the density choice; high is coldsign's default, medium Sparrow's and Keystone's. */
export const DENSITIES = { low: 100, medium: 400, high: DEFAULT_FRAGMENT_BYTES } as const;
export const DEFAULT_FRAMES_PER_SECOND = 4;

function fitsAt(message: UrMessage | null, fragmentBytes: number): boolean {
  return message === null || urFragmentCount(message.cbor.length, fragmentBytes) <= MAX_FRAGMENTS;
}

function outputPanel(output: SignedOutput, index: number): HTMLElement {
  const save = h(
    'button',
    { type: 'button', className: 'primary', id: `save-${index}` },
    `Save ${output.name}`,
  );
  save.addEventListener('click', () => saveBytes(output.name, output.bytes, output.mime));
  if (output.urParts.length === 0) {
    return h(
      'div',
      { className: 'card output' },
      h('h2', {}, output.description),
      h('p', {}, 'Too large for a QR code: save it to a file.'),
      save,
    );
  }
  // Only a UR can be re-split at another density; a plain QR (e.g. a raw transaction in hex) is shown as it is.
  const message = output.urParts.every((part) => /^ur:/i.test(part)) ? assembleUr(output.urParts) : null;
  const qr = animatedQr(output.urParts, DEFAULT_FRAMES_PER_SECOND);
  onLeave(() => qr.stop());

  const speed = h('input', {
    type: 'range',
    id: `speed-${index}`,
    min: 1,
    max: 10,
    step: 1,
    value: DEFAULT_FRAMES_PER_SECOND,
  });
  const speedText = h('span', {}, `${DEFAULT_FRAMES_PER_SECOND} frames/s`);
  speed.addEventListener('input', () => {
    qr.setFramesPerSecond(Number(speed.value));
    speedText.textContent = `${speed.value} frames/s`;
  });
  const density = h(
    'select',
    { id: `density-${index}` },
    ...Object.entries(DENSITIES).map(([name, bytes]) =>
      h(
        'option',
        // a density at which the message would need more frames than a reader accepts is not offered
        { value: String(bytes), selected: name === 'high', disabled: !fitsAt(message, bytes) },
        `${name} (${bytes} bytes per frame)`,
      ),
    ),
  );
  density.addEventListener('change', () => {
    if (message) qr.setParts(encodeUrParts(message.type, message.cbor, Number(density.value)));
  });
  const controls = message
    ? h(
        'div',
        { className: 'controls' },
        h('label', { for: `speed-${index}` }, 'Speed'),
        speed,
        speedText,
        h('label', { for: `density-${index}` }, 'Density'),
        density,
      )
    : null;
  return h(
    'div',
    { className: 'card output' },
    h('h2', {}, output.description),
    qr.element,
    controls,
    h('div', { className: 'actions' }, save, message ? psbtSaveButton(message, output.name, index) : null),
  );
}

/** A signed crypto-psbt UR can also be saved as a binary PSBT file (BIP-174), which is what a .psbt file holds. */
function psbtSaveButton(
  message: ReturnType<typeof assembleUr>,
  name: string,
  index: number,
): HTMLElement | null {
  if (message.type !== 'crypto-psbt' && message.type !== 'psbt') return null;
  const psbtName = name.replace(/(\.signed)?(\.ur)?\.txt$/i, '') + '.signed.psbt';
  const button = h('button', { type: 'button', id: `save-psbt-${index}` }, 'Save as PSBT file');
  const psbt = cborByteString(message.cbor);
  if (!psbt) return null;
  button.addEventListener('click', () =>
    saveBytes(psbtName.replace(/\.signed\.signed\./, '.signed.'), psbt, 'application/octet-stream'),
  );
  return button;
}

export function resultScreen(): HTMLElement {
  const result = state.result;
  if (!result)
    return h(
      'section',
      { className: 'screen' },
      h('h1', { id: 'screen-title', tabindex: -1 }, 'Result'),
      h('p', {}, 'Nothing signed yet.'),
    );
  const done = h('button', { type: 'button', id: 'done' }, 'Done: next request');
  done.addEventListener('click', () => {
    resetRequest();
    go('scan');
  });
  return h(
    'section',
    { className: 'screen', 'aria-labelledby': 'screen-title' },
    h('h1', { id: 'screen-title', tabindex: -1 }, 'Signed'),
    h(
      'p',
      { className: 'notice ok', role: 'status' },
      `Signed and recorded in the audit log (entry ${result.report.audit.seq}). Show this to the online coordinator’s camera.`,
    ),
    ...result.outputs.map(outputPanel),
    done,
  );
}

/** The bytes of a CBOR byte string (RFC 8949 major type 2), the whole payload of a crypto-psbt UR (BCR-2020-006). */
function cborByteString(cbor: Uint8Array): Uint8Array | null {
  const head = cbor[0];
  if (head === undefined || head >> 5 !== 2) return null;
  const info = head & 0x1f;
  const width = info < 24 ? 0 : info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : -1;
  if (width < 0 || cbor.length < 1 + width) return null;
  let length = info < 24 ? info : 0;
  for (let i = 1; i <= width; i++) length = length * 256 + cbor[i]!;
  return cbor.length === 1 + width + length ? cbor.subarray(1 + width) : null;
}
