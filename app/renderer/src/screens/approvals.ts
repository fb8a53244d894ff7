/** Approvals: each officer presents their encrypted key file and passphrase; each approval counts toward the quorum. */
import type { ReviewView } from '../../../../appliance/api.js';
import { call } from '../api.js';
import { state } from '../state.js';
import { h } from '../ui/dom.js';
import { errorBox, withStatus } from '../ui/notice.js';

export function approvalsPanel(view: ReviewView, changed: () => void): HTMLElement {
  const required = view.decision.requiredApprovals;
  const count = h('p', { className: 'big', id: 'approval-count', 'aria-live': 'polite' });
  const list = h('ul', { className: 'approvals' });
  const render = () => {
    count.textContent = `${state.approvals.length} of ${required} approvals`;
    list.replaceChildren(...state.approvals.map((a) => h('li', {}, `✓ ${a.officer}`)));
    changed();
  };
  render();

  const keyFile = h('input', {
    type: 'file',
    id: 'officer-key',
    accept: '.pem,application/x-pem-file,text/plain',
  });
  const passphrase = h('input', { type: 'password', id: 'officer-passphrase', autocomplete: 'off' });
  const status = h('div', { className: 'status-slot' });
  const submit = h('button', { type: 'submit' }, 'Approve');
  const form = h(
    'form',
    { className: 'card', id: 'approve-form' },
    h('h2', {}, 'Officer approvals'),
    count,
    list,
    h('label', { for: 'officer-key' }, 'Officer key file'),
    keyFile,
    h('label', { for: 'officer-passphrase' }, 'Passphrase'),
    passphrase,
    submit,
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const file = keyFile.files?.[0];
    const secret = passphrase.value;
    passphrase.value = '';
    if (!file) return;
    submit.disabled = true;
    void withStatus(status, 'Checking the officer key and signing the approval…', async () =>
      call('approve', view.report.requestId, await file.text(), secret),
    )
      .then((approval) => {
        state.approvals = [...state.approvals.filter((a) => a.officer !== approval.officer), approval];
        keyFile.value = '';
        render();
      })
      .catch((error: unknown) => status.replaceChildren(errorBox(error)))
      .finally(() => (submit.disabled = false));
  });
  return form;
}
