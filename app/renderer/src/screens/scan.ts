/**
 * Scan: the request comes in through the camera (animated UR with live progress, or a single QR), or from files:
 * QR images, a folder of QR frames, or a request file. Everything goes to the appliance's review as it is.
 */
import type { InputFile } from '../../../../appliance/api.js';
import { AppError, call } from '../api.js';
import { ScanCollector } from '../scan/collector.js';
import { startCamera, type CameraScanner } from '../scan/camera.js';
import { go, onLeave, resetRequest, state } from '../state.js';
import { fileBytes, h } from '../ui/dom.js';
import { auditWarningBox } from '../ui/audit-warning.js';
import { errorBox, infoBox, withStatus } from '../ui/notice.js';

export function scanScreen(): HTMLElement {
  const status = h('div', { className: 'status-slot' });
  const progressBar = h('progress', {
    id: 'scan-progress',
    max: 100,
    value: 0,
    'aria-label': 'Frames received',
  });
  const progressText = h(
    'p',
    { id: 'scan-progress-text', className: 'big', 'aria-live': 'polite' },
    'Camera off.',
  );
  const cameraSlot = h('div', { className: 'camera-slot' });
  const collector = new ScanCollector();
  let camera: CameraScanner | undefined;
  let reviewing = false;

  const stopCamera = () => {
    camera?.stop();
    camera = undefined;
    cameraSlot.replaceChildren();
    cameraButton.textContent = 'Start camera';
  };
  onLeave(stopCamera);

  const submit = async (inputs: InputFile[], what: string) => {
    if (reviewing) return;
    reviewing = true;
    stopCamera();
    try {
      resetRequest();
      state.review = await withStatus(status, `Decoding and checking ${what} against the policy…`, () =>
        call('review', inputs),
      );
      go('review');
    } catch (error) {
      status.replaceChildren(errorBox(error));
      collector.reset();
      progressBar.value = 0;
    } finally {
      reviewing = false;
    }
  };

  const onTexts = (texts: string[]) => {
    for (const text of texts) {
      let outcome;
      try {
        outcome = collector.receive(text);
      } catch (error) {
        // qr/'s ColdsignError carries a stable code; anything else is a bug, shown without its internals.
        const e = error as { code?: unknown; message?: unknown };
        const known = typeof e.code === 'string' && typeof e.message === 'string';
        status.replaceChildren(
          errorBox(
            known
              ? new AppError(e.code as string, e.message as string)
              : new AppError(
                  'APP_INTERNAL',
                  'The scanned frame could not be processed; nothing was reviewed.',
                ),
          ),
        );
        collector.reset();
        progressBar.value = 0;
        progressText.textContent =
          'Scan stopped: that QR code was rejected. Show the request again to start over.';
        stopCamera();
        return;
      }
      if (outcome.state === 'progress') {
        const percent = Math.floor(outcome.progress * 100);
        progressBar.value = percent;
        progressText.textContent = `Animated QR: ${percent}% received (${outcome.partsSeen} frames read, message in ${outcome.fragments} fragments).`;
      } else if (outcome.state === 'complete') {
        progressBar.value = 100;
        progressText.textContent = `Complete: ${outcome.parts} frame${outcome.parts === 1 ? '' : 's'} read.`;
        void submit(
          [{ name: 'camera-scan.txt', bytes: new TextEncoder().encode(outcome.text) }],
          'the scanned request',
        );
        return;
      }
    }
  };

  const cameraButton = h(
    'button',
    { type: 'button', className: 'primary', id: 'camera-button' },
    'Start camera',
  );
  cameraButton.addEventListener('click', () => {
    if (camera) return stopCamera();
    status.replaceChildren();
    collector.reset();
    progressText.textContent = 'Starting the camera…';
    void startCamera({
      onTexts,
      onReady: (description) =>
        (progressText.textContent = `Scanning with the ${description}. Hold the QR code in view.`),
      onError: (code, message) => {
        if (code === 'QR_DECODER_INVALID') status.replaceChildren(errorBox(new AppError(code, message)));
      },
    }).then(
      (started) => {
        camera = started;
        cameraSlot.replaceChildren(started.video);
        cameraButton.textContent = 'Stop camera';
      },
      () => {
        progressText.textContent = 'Camera off.';
        status.replaceChildren(
          errorBox(
            new AppError(
              'CAMERA_UNAVAILABLE',
              'The camera could not be opened (none connected, or access was refused).',
            ),
          ),
        );
      },
    );
  });

  const files = h('input', { type: 'file', id: 'open-files', multiple: true });
  const folder = h('input', { type: 'file', id: 'open-folder', multiple: true, webkitdirectory: true });
  const readFiles = async (list: FileList | null, what: string) => {
    if (!list || list.length === 0) return;
    const inputs = await Promise.all(
      [...list].map(async (file) => ({ name: file.name, bytes: await fileBytes(file) })),
    );
    await submit(inputs, what);
  };
  files.addEventListener(
    'change',
    () =>
      void readFiles(files.files, `${files.files?.length ?? 0} file(s)`).finally(() => (files.value = '')),
  );
  folder.addEventListener(
    'change',
    () => void readFiles(folder.files, 'the folder of QR frames').finally(() => (folder.value = '')),
  );

  return h(
    'section',
    { className: 'screen', 'aria-labelledby': 'screen-title' },
    h('h1', { id: 'screen-title', tabindex: -1 }, 'Scan a request'),
    auditWarningBox(),
    h(
      'p',
      { className: 'lead' },
      'Show the unsigned request from the online coordinator to the camera, or open it from removable media.',
    ),
    h(
      'div',
      { className: 'scan-layout' },
      h('div', {}, cameraButton, cameraSlot),
      h('div', { className: 'scan-side' }, progressBar, progressText),
    ),
    status,
    h(
      'div',
      { className: 'card' },
      h('h2', {}, 'Or open files'),
      h('label', { for: 'open-files' }, 'QR images (PNG, JPEG), a UR text file or a request file'),
      files,
      h('label', { for: 'open-folder' }, 'A folder of QR frame images'),
      folder,
    ),
    state.unlocked ? null : infoBox('The appliance is locked.'),
    state.unlocked && state.auditHead
      ? h(
          'p',
          { className: 'sub', id: 'audit-head' },
          `Audit log checked at unlock: entry ${state.auditHead.seq}, head ${state.auditHead.hash.slice(0, 16)}…`,
        )
      : null,
  );
}
