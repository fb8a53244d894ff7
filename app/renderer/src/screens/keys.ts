/** Keys: the registered HSM keys, generating a new one, and showing an address or descriptor as a QR code. */
import type { KeyRecord } from '../../../../core/signer.js';
import { call } from '../api.js';
import { h, row } from '../ui/dom.js';
import { errorBox, withStatus } from '../ui/notice.js';
import { stillQr } from '../ui/qr.js';

export function keysScreen(): HTMLElement {
  const list = h('div', { className: 'keys-list' });
  const detail = h('div', { className: 'key-detail', 'aria-live': 'polite' });
  const status = h('div', { className: 'status-slot' });

  const refresh = async () => {
    try {
      const keys = await withStatus(status, 'Reading the key registry…', () => call('listKeys'));
      list.replaceChildren(keysTable(keys, (key) => detail.replaceChildren(keyDetail(key))));
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  };
  void refresh();

  return h(
    'section',
    { className: 'screen', 'aria-labelledby': 'screen-title' },
    h('h1', { id: 'screen-title', tabindex: -1 }, 'Keys'),
    status,
    list,
    detail,
    generateForm(refresh),
  );
}

function keysTable(keys: KeyRecord[], show: (key: KeyRecord) => void): HTMLElement {
  if (keys.length === 0) return h('p', { className: 'empty' }, 'No keys yet. Generate one below.');
  return h(
    'table',
    { className: 'table', id: 'keys-table' },
    h(
      'thead',
      {},
      h('tr', {}, h('th', {}, 'Label'), h('th', {}, 'Chain'), h('th', {}, 'Address'), h('th', {}, '')),
    ),
    h(
      'tbody',
      {},
      ...keys.map((key) =>
        h(
          'tr',
          { 'data-label': key.label },
          h('td', {}, key.label),
          h('td', {}, key.chain === 'btc' ? `Bitcoin ${key.network ?? ''} ${key.script ?? ''}` : 'EVM'),
          h('td', { className: 'mono' }, key.address),
          h('td', {}, h('button', { type: 'button', onclick: () => show(key) }, `Show ${key.label}`)),
        ),
      ),
    ),
  );
}

function keyDetail(key: KeyRecord): HTMLElement {
  const exported = key.descriptor ?? key.publicKey;
  return h(
    'div',
    { className: 'card', id: 'key-detail' },
    h('h2', {}, `Key "${key.label}"`),
    h(
      'dl',
      {},
      ...row('Address', h('span', { className: 'mono' }, key.address)),
      ...row('Public key', h('span', { className: 'mono wrap' }, key.publicKey)),
      ...row('Created', key.createdAt),
    ),
    h(
      'div',
      { className: 'qr-pair' },
      stillQr(key.address, 'Address'),
      stillQr(exported, key.descriptor ? 'Descriptor' : 'Public key'),
    ),
  );
}

function generateForm(done: () => Promise<void>): HTMLElement {
  const chain = h(
    'select',
    { id: 'gen-chain' },
    h('option', { value: 'btc' }, 'Bitcoin'),
    h('option', { value: 'evm' }, 'EVM (Ethereum)'),
  );
  const label = h('input', {
    id: 'gen-label',
    type: 'text',
    required: true,
    pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}',
    autocomplete: 'off',
  });
  const script = h(
    'select',
    { id: 'gen-script' },
    h('option', { value: 'p2wpkh' }, 'Native SegWit (P2WPKH)'),
    h('option', { value: 'p2sh-p2wpkh' }, 'Nested SegWit (P2SH-P2WPKH)'),
    h('option', { value: 'p2pkh' }, 'Legacy (P2PKH)'),
  );
  const network = h(
    'select',
    { id: 'gen-network' },
    ...['mainnet', 'testnet', 'signet', 'regtest'].map((n) => h('option', { value: n }, n)),
  );
  const btcOnly = h(
    'div',
    { className: 'btc-only' },
    h('label', { for: 'gen-script' }, 'Script'),
    script,
    h('label', { for: 'gen-network' }, 'Network'),
    network,
  );
  chain.addEventListener('change', () => (btcOnly.hidden = chain.value !== 'btc'));
  const status = h('div', { className: 'status-slot' });
  const submit = h('button', { type: 'submit', className: 'primary' }, 'Generate key in the HSM');
  const form = h(
    'form',
    { className: 'card', id: 'generate-form' },
    h('h2', {}, 'Generate a key'),
    h('label', { for: 'gen-chain' }, 'Chain'),
    chain,
    h('label', { for: 'gen-label' }, 'Label'),
    label,
    btcOnly,
    submit,
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    const options =
      chain.value === 'btc'
        ? {
            chain: 'btc' as const,
            label: label.value,
            script: script.value as 'p2wpkh',
            network: network.value as 'mainnet',
          }
        : { chain: 'evm' as const, label: label.value };
    void withStatus(status, 'Generating the key inside the HSM…', () => call('generateKey', options))
      .then(async (key) => {
        label.value = '';
        await done();
        status.replaceChildren(
          h(
            'div',
            { className: 'notice ok', role: 'status' },
            h('p', {}, `Key "${key.label}" generated: ${key.address}`),
          ),
        );
      })
      .catch((error: unknown) => status.replaceChildren(errorBox(error)))
      .finally(() => (submit.disabled = false));
  });
  return form;
}
