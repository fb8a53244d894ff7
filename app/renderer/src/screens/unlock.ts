/** Unlock: the operator's HSM user PIN. A wrong PIN and a locked PIN are explained; nothing is retried. */
import { call } from '../api.js';
import { state, go } from '../state.js';
import { h } from '../ui/dom.js';
import { errorBox, withStatus } from '../ui/notice.js';

export function unlockScreen(): HTMLElement {
  const pin = h('input', {
    id: 'pin',
    type: 'password',
    inputmode: 'numeric',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'pin-help',
  });
  const status = h('div', { className: 'status-slot' });
  const submit = h('button', { type: 'submit', className: 'primary' }, 'Unlock');
  const form = h(
    'form',
    { className: 'unlock-form', id: 'unlock-form' },
    h('label', { for: 'pin' }, 'HSM user PIN'),
    pin,
    h(
      'p',
      { id: 'pin-help', className: 'help' },
      'Type the PIN and press Enter. The HSM locks the PIN after too many wrong attempts.',
    ),
    submit,
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = pin.value;
    pin.value = '';
    if (value.length === 0) return;
    submit.disabled = true;
    void withStatus(status, 'Logging in to the HSM…', () => call('unlock', value))
      .then((result) => {
        state.unlocked = true;
        state.auditHead = result.head ?? null;
        state.auditWarning = result.auditWarning ?? null;
        go('scan');
      })
      .catch((error: unknown) => {
        status.replaceChildren(errorBox(error));
        submit.disabled = false;
        pin.focus();
      });
  });
  queueMicrotask(() => pin.focus());
  return h(
    'section',
    { className: 'screen', 'aria-labelledby': 'screen-title' },
    h('h1', { id: 'screen-title', tabindex: -1 }, 'Unlock the appliance'),
    form,
  );
}
