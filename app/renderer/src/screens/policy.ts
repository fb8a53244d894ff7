/** Policy: the active policy, and importing a signed one — validated and shown as a diff before it is applied. */
import { call } from '../api.js';
import { h } from '../ui/dom.js';
import { errorBox, withStatus } from '../ui/notice.js';

export function policyScreen(): HTMLElement {
  const active = h('pre', { className: 'policy-text', id: 'policy-active', tabindex: 0 });
  const status = h('div', { className: 'status-slot' });
  const preview = h('div', { id: 'policy-preview' });
  const appliance = h('code', { id: 'policy-appliance' });
  const load = () =>
    withStatus(status, 'Reading the active policy…', () => call('policyShow')).then(
      (shown) => {
        active.textContent =
          shown.document === null ? 'No policy yet: every request is refused (default deny).' : shown.text;
        appliance.textContent = shown.appliance;
      },
      (error: unknown) => status.replaceChildren(errorBox(error)),
    );
  void load();

  const file = h('input', { type: 'file', id: 'policy-file', accept: 'application/json,.json' });
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    file.value = '';
    if (!chosen) return;
    preview.replaceChildren();
    void (async () => {
      try {
        // The raw text goes to main, which reads it strictly (a repeated key is refused there, as by the CLI).
        const text = await chosen.text();
        const shown = await withStatus(status, 'Checking the officers’ signatures…', () =>
          call('policyPreview', text),
        );
        const apply = h(
          'button',
          { type: 'button', className: 'primary', id: 'policy-apply' },
          'Apply this policy',
        );
        apply.addEventListener('click', () => {
          apply.disabled = true;
          void withStatus(status, 'Applying the policy and recording it in the audit log…', () =>
            call('policyApply', text),
          ).then(
            (applied) => {
              preview.replaceChildren(
                h(
                  'p',
                  { className: 'notice ok', role: 'status' },
                  `Policy version ${applied.version} is now active.`,
                ),
              );
              void load();
            },
            (error: unknown) => status.replaceChildren(errorBox(error)),
          );
        });
        preview.replaceChildren(
          h(
            'div',
            { className: 'card' },
            h('h2', {}, 'Changes against the active policy'),
            h(
              'pre',
              { className: 'diff', tabindex: 0 },
              ...shown.diff.map((line) =>
                h(
                  'span',
                  { className: line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : '' },
                  `${line}\n`,
                ),
              ),
            ),
            apply,
          ),
        );
      } catch (error) {
        status.replaceChildren(errorBox(error));
      }
    })();
  });

  return h(
    'section',
    { className: 'screen', 'aria-labelledby': 'screen-title' },
    h('h1', { id: 'screen-title', tabindex: -1 }, 'Policy'),
    h('div', { className: 'card' }, h('h2', {}, 'Active policy'), active),
    h(
      'div',
      { className: 'card' },
      h('h2', {}, 'Import a signed policy'),
      h('p', {}, 'A policy for this appliance names its audit public key as "appliance": ', appliance),
      h('label', { for: 'policy-file' }, 'Policy file signed by a quorum of officers'),
      file,
    ),
    status,
    preview,
  );
}
