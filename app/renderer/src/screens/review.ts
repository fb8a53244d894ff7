/**
 * Review: everything the operator must check before signing, laid out for checking — what moves where (with the
 * policy's allowlist labels, change marked), the fee and fee rate, decoded calls, warnings in plain words, and the
 * policy verdict with each reason. Officers approve here; the Sign button appears only when the policy allows it.
 */
import type { ReviewView } from '../../../../appliance/api.js';
import type { Movement, SigningSummary } from '../../../../core/summary.js';
import { call } from '../api.js';
import { go, resetRequest, state } from '../state.js';
import { h, row } from '../ui/dom.js';
import { errorBox, withStatus } from '../ui/notice.js';
import { approvalsPanel } from './approvals.js';

/** Address → label from the active policy's destination allowlists (rules[].destinations[]). */
async function allowlistLabels(): Promise<Map<string, string>> {
  const labels = new Map<string, string>();
  try {
    const { document } = await call('policyShow');
    const rules =
      (document as { rules?: Array<{ destinations?: Array<{ address?: string; label?: string }> }> } | null)
        ?.rules ?? [];
    for (const rule of rules)
      for (const d of rule.destinations ?? [])
        if (d.address && d.label) labels.set(d.address.toLowerCase(), d.label);
  } catch {}
  return labels;
}

const KIND_NAMES: Record<SigningSummary['kind'], string> = {
  psbt: 'transaction (PSBT)',
  transaction: 'transaction',
  message: 'message signature',
  typed_data: 'typed data signature (EIP-712)',
};

function assetName(m: Movement): string {
  return m.asset.type === 'native' ? m.asset.symbol : (m.asset.symbol ?? `token ${m.asset.contract}`);
}

function movementsTable(summary: SigningSummary, labels: Map<string, string>): HTMLElement {
  if (summary.movements.length === 0) return h('p', {}, 'Nothing moves value in this request.');
  return h(
    'table',
    { className: 'table', id: 'movements' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'To'),
        h('th', {}, 'Allowlist'),
        h('th', { className: 'num' }, 'Amount'),
        h('th', {}, ''),
      ),
    ),
    h(
      'tbody',
      {},
      ...summary.movements.map((m) => {
        const label = m.to ? labels.get(m.to.toLowerCase()) : undefined;
        return h(
          'tr',
          { className: m.change ? 'change' : 'spend' },
          h('td', { className: 'mono wrap' }, m.to ?? 'no address (data output)'),
          h(
            'td',
            {},
            m.change
              ? h('span', { className: 'tag' }, 'our own key')
              : label
                ? h('span', { className: 'tag ok' }, label)
                : h('span', { className: 'tag warn' }, 'not on any allowlist'),
          ),
          h('td', { className: 'num' }, `${m.amount ?? `${m.raw} base units`} ${assetName(m)}`),
          h(
            'td',
            {},
            m.change
              ? h('span', { className: 'tag' }, 'CHANGE (back to us)')
              : h('span', { className: 'tag spend' }, 'LEAVES'),
          ),
        );
      }),
    ),
  );
}

function callDetails(summary: SigningSummary): HTMLElement | null {
  const c = summary.call;
  if (!c && !summary.blind && !summary.typedData && !summary.message) return null;
  const parts: HTMLElement[] = [];
  if (c) {
    parts.push(
      h(
        'dl',
        { id: 'decoded-call' },
        ...row('Contract', h('span', { className: 'mono' }, c.contract)),
        ...row('Function', c.name ?? `unknown (selector ${c.selector})`),
        ...Object.entries(c.args).flatMap(([k, v]) => row(k, h('span', { className: 'mono wrap' }, v))),
      ),
    );
    if (c.spendingApproval)
      parts.push(
        h(
          'p',
          { className: 'warning' },
          c.unlimited
            ? 'This lets someone else spend an UNLIMITED amount of our tokens.'
            : 'This lets someone else spend our tokens.',
        ),
      );
    if (c.delegatecall)
      parts.push(
        h(
          'p',
          { className: 'warning' },
          'This Safe transaction runs code with our Safe’s full authority (delegatecall).',
        ),
      );
  }
  if (summary.typedData)
    parts.push(
      h(
        'dl',
        {},
        ...row('Typed data', summary.typedData.primaryType),
        ...Object.entries(summary.typedData.domain).flatMap(([k, v]) => row(`domain.${k}`, v)),
      ),
    );
  if (summary.message)
    parts.push(
      h(
        'dl',
        {},
        ...row('Message', summary.message.text ?? '(not readable text)'),
        ...row('Message hex', h('span', { className: 'mono wrap' }, summary.message.hex)),
      ),
    );
  if (summary.blind)
    parts.push(
      h(
        'p',
        { className: 'warning' },
        'BLIND: coldsign does not understand what this request does. Do not sign unless you know exactly why it is needed.',
      ),
    );
  return h('div', { className: 'card' }, h('h2', {}, 'What it does'), ...parts);
}

function verdict(view: ReviewView): HTMLElement {
  const { decision } = view;
  return h(
    'div',
    { className: `card verdict ${decision.allowed ? 'allowed' : 'refused'}`, id: 'verdict' },
    h('h2', {}, decision.allowed ? `Policy: ALLOWED by rule "${decision.rule}"` : 'Policy: REFUSED'),
    h(
      'ul',
      { className: 'reasons' },
      ...decision.reasons.map((r) =>
        h(
          'li',
          { className: r.ok ? 'ok' : 'bad' },
          h('span', { className: 'mark', 'aria-hidden': 'true' }, r.ok ? '✓' : '✗'),
          ` ${r.rule}: ${r.message}`,
        ),
      ),
    ),
    decision.allowed
      ? h(
          'p',
          {},
          decision.requiredApprovals === 0
            ? 'No officer approval needed.'
            : `Needs ${decision.requiredApprovals} officer approval${decision.requiredApprovals === 1 ? '' : 's'}.`,
        )
      : h(
          'p',
          { className: 'big' },
          'This request cannot be signed. Reject it, or have the policy changed by the officers.',
        ),
  );
}

export function reviewScreen(): HTMLElement {
  const view = state.review;
  if (!view)
    return h(
      'section',
      { className: 'screen' },
      h('h1', { id: 'screen-title', tabindex: -1 }, 'Review'),
      h('p', {}, 'No request yet: scan one first.'),
    );
  const { summary, report } = view;
  const status = h('div', { className: 'status-slot' });
  const movements = h('div', {}, movementsTable(summary, new Map()));
  void allowlistLabels().then((labels) => movements.replaceChildren(movementsTable(summary, labels)));

  const signButton = h(
    'button',
    { type: 'button', className: 'primary', id: 'sign-button' },
    'Sign with the HSM',
  );
  const updateSign = () => {
    const enough = state.approvals.length >= view.decision.requiredApprovals;
    signButton.disabled = !view.decision.allowed || !enough;
    signButton.title = !view.decision.allowed
      ? 'Refused by the policy'
      : enough
        ? ''
        : 'More approvals are needed';
  };
  updateSign();
  signButton.addEventListener('click', () => {
    signButton.disabled = true;
    void withStatus(status, 'Signing inside the HSM and verifying every signature…', () =>
      call('sign', report.requestId, state.approvals),
    )
      .then((result) => {
        state.result = result;
        go('result');
      })
      .catch((error: unknown) => {
        status.replaceChildren(errorBox(error));
        updateSign();
      });
  });
  const startOver = h('button', { type: 'button', id: 'start-over' }, 'Reject and start over');
  startOver.addEventListener('click', () => {
    resetRequest();
    go('scan');
  });

  const fee = summary.fee;
  const where =
    summary.chain === 'btc' ? `Bitcoin ${summary.network ?? ''}` : `EVM chain ${summary.chainId ?? '?'}`;
  return h(
    'section',
    { className: 'screen', 'aria-labelledby': 'screen-title' },
    h('h1', { id: 'screen-title', tabindex: -1 }, `Review: ${KIND_NAMES[summary.kind]} on ${where}`),
    summary.warnings.length > 0
      ? h(
          'div',
          { className: 'card warnings', id: 'warnings' },
          h('h2', {}, 'Warnings'),
          h('ul', {}, ...summary.warnings.map((w) => h('li', {}, w))),
        )
      : null,
    h('div', { className: 'card' }, h('h2', {}, 'Where the value goes'), movements),
    h(
      'div',
      { className: 'card' },
      h(
        'dl',
        { id: 'fee' },
        ...row(
          'Fee',
          fee
            ? `${fee.amount} ${summary.chain === 'btc' ? 'BTC' : 'ETH'}${summary.chain === 'evm' ? ' (maximum)' : ''}`
            : 'none',
        ),
        ...(fee?.rate !== undefined
          ? row('Fee rate', `${fee.rate} ${summary.chain === 'btc' ? 'sat/vB' : 'gwei'}`)
          : []),
        ...row('Signing keys', summary.signingKeys.join(', ') || 'none of ours'),
        ...row('Request id', h('span', { className: 'mono wrap' }, report.requestId)),
      ),
    ),
    callDetails(summary),
    verdict(view),
    view.decision.allowed && view.decision.requiredApprovals > 0 ? approvalsPanel(view, updateSign) : null,
    h('div', { className: 'actions' }, signButton, startOver),
    status,
  );
}
