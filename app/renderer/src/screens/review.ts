/**
 * Review: a thin view of the review model the appliance sends (appliance/review-model.ts; nothing is re-fetched or
 * cast here). The verdict and the headline come first, above the fold; a refusal is a red banner that stays at the
 * top while the page scrolls and there is no Sign button at all. Then every movement (addresses in full, monospace,
 * in groups of four), warnings by severity, fee lines, the decoded call, and the details.
 */
import type { ReviewModel, ReviewMovement } from '../../../../appliance/review-model.js';
import { call } from '../api.js';
import { go, resetRequest, state } from '../state.js';
import { h, row } from '../ui/dom.js';
import { errorBox, withStatus } from '../ui/notice.js';
import { approvalsPanel } from './approvals.js';

/** An address in full, in groups of four characters (an "0x" prefix stays on its own), never truncated. */
export function addressView(address: string | null, fallback = 'no address (data output)'): HTMLElement {
  if (!address) return h('span', { className: 'muted' }, fallback);
  const head = address.startsWith('0x') ? ['0x'] : [];
  const rest = address.slice(head.length);
  const groups = [...head, ...(rest.match(/.{1,4}/g) ?? [])];
  return h(
    'span',
    { className: 'address mono', title: address, 'aria-label': address },
    ...groups.map((g) => h('span', {}, g)),
  );
}

/** How many of the closest rule's reasons are shown before the rest are folded. */
const SHOWN_REASONS = 3;

function reasonItem(r: { ok: boolean; message: string }, prefix = ''): HTMLElement {
  return h(
    'li',
    { className: r.ok ? 'ok' : 'bad' },
    h('span', { className: 'mark', 'aria-hidden': 'true' }, r.ok ? '✓ ' : '✗ '),
    `${prefix}${r.message}`,
  );
}

function bannerTitle(v: ReviewModel['verdict']): string {
  if (v.allowed) return `Policy: ALLOWED by rule "${v.rule}"`;
  if (v.refusedBy === 'outpoint-ledger') return 'Outpoint ledger: REFUSED — this request cannot be signed';
  return 'Policy: REFUSED — this request cannot be signed';
}

/** The verdict: a compact banner (a refusal stays pinned to the top of the window while the page scrolls). */
function verdictBanner(model: ReviewModel): HTMLElement {
  const v = model.verdict;
  const needs =
    v.requiredApprovals === 0
      ? 'No officer approval needed.'
      : `Needs ${v.requiredApprovals} officer approval${v.requiredApprovals === 1 ? '' : 's'}.`;
  return h(
    'div',
    {
      className: `verdict ${v.allowed ? 'allowed' : 'refused'}`,
      id: 'verdict',
      role: v.allowed ? 'status' : 'alert',
    },
    h('h2', {}, bannerTitle(v)),
    h(
      'p',
      {},
      v.allowed
        ? needs
        : v.refusedBy === 'outpoint-ledger'
          ? 'An input was signed before under another amount or script: reject it and ask the coordinator why. No policy change can allow it.'
          : v.closestRule
            ? `Closest rule: "${v.closestRule}". Reject it, or have the officers change the policy.`
            : 'Reject it, or have the officers change the policy.',
    ),
  );
}

/** The closest rule's reasons first (a few shown, the rest folded with the other rules' reasons). */
function reasonsCard(model: ReviewModel): HTMLElement {
  const v = model.verdict;
  const shown = v.reasons.slice(0, SHOWN_REASONS);
  const more = [...v.reasons.slice(SHOWN_REASONS), ...v.folded];
  return h(
    'div',
    { className: 'card', id: 'reasons' },
    h('h2', {}, v.allowed ? 'Why it is allowed' : 'Why it is refused'),
    h('ul', { className: 'reasons' }, ...shown.map((r) => reasonItem(r))),
    more.length > 0
      ? h(
          'details',
          { className: 'folded' },
          h('summary', {}, `${more.length} more reason${more.length === 1 ? '' : 's'}`),
          h('ul', { className: 'reasons' }, ...more.map((r) => reasonItem(r, `${r.rule}: `))),
        )
      : null,
  );
}

function headline(model: ReviewModel): HTMLElement {
  return h(
    'div',
    { className: 'headline', id: 'headline' },
    h('p', { className: 'headline-text' }, model.headline.text),
    ...model.headline.approvals.map((a) => h('p', { className: 'headline-approval' }, a)),
  );
}

function warnings(model: ReviewModel): HTMLElement | null {
  if (model.warnings.length === 0) return null;
  return h(
    'ul',
    { className: 'warnings', id: 'warnings', 'aria-label': 'Warnings' },
    ...model.warnings.map((w) =>
      h(
        'li',
        { className: w.severity },
        h('span', { className: 'severity' }, w.severity === 'danger' ? 'DANGER' : 'WARNING'),
        ' ',
        w.text,
      ),
    ),
  );
}

function movementRow(m: ReviewMovement): HTMLElement {
  return h(
    'tr',
    { className: m.callOnly ? 'call' : m.leaves ? 'spend' : 'change' },
    h('td', {}, m.channelName),
    h('td', {}, addressView(m.to)),
    h(
      'td',
      {},
      m.callOnly ? h('span', { className: 'tag' }, 'CALL (no value sent)') : null,
      m.callOnly ? ' ' : null,
      !m.leaves
        ? h('span', { className: 'tag' }, `CHANGE (back to ${m.label ?? 'our key'})`)
        : m.label
          ? h('span', { className: 'tag ok' }, m.label)
          : h('span', { className: 'tag warn' }, 'on no allowlist'),
      m.token && m.channel === 'approval'
        ? h('div', { className: 'sub' }, 'token ', addressView(m.token))
        : null,
      m.deadlineText ? h('div', { className: 'sub' }, `expires ${m.deadlineText}`) : null,
    ),
    h('td', { className: `num${m.unbounded ? ' danger' : ''}` }, m.amount),
  );
}

function movements(model: ReviewModel): HTMLElement {
  if (model.movements.length === 0)
    return h('p', { id: 'movements' }, 'Nothing in this request moves value that coldsign can see.');
  return h(
    'table',
    { className: 'table', id: 'movements' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'What'),
        h('th', {}, 'To'),
        h('th', {}, 'Allowlist'),
        h('th', { className: 'num' }, 'Amount'),
      ),
    ),
    h('tbody', {}, ...model.movements.map(movementRow)),
  );
}

function details(model: ReviewModel): HTMLElement {
  return h(
    'dl',
    { id: 'fee' },
    ...row('Network', model.network),
    ...(model.from ? row('From', addressView(model.from)) : []),
    ...row('Signing keys', model.signingKeys.join(', ') || 'none of ours'),
    ...model.fees.flatMap((f) => row(f.label, f.value)),
    ...model.facts.flatMap((f) => row(f.label, h('span', { className: 'mono wrap' }, f.value))),
    ...row('Request id', h('span', { className: 'mono wrap' }, model.requestId)),
  );
}

function whatItDoes(model: ReviewModel): HTMLElement | null {
  const parts: HTMLElement[] = [];
  if (model.call)
    parts.push(
      h(
        'dl',
        { id: 'decoded-call' },
        ...row('Contract', addressView(model.call.contract)),
        ...row('Function', model.call.function),
        ...model.call.args.flatMap((a) => row(a.label, h('span', { className: 'mono wrap' }, a.value))),
      ),
    );
  if (model.typedData)
    parts.push(
      h(
        'dl',
        { id: 'typed-data' },
        ...row('Typed data', model.typedData.primaryType),
        ...model.typedData.domain.flatMap((d) => row(`domain.${d.label}`, d.value)),
      ),
    );
  if (model.message)
    parts.push(
      h(
        'dl',
        { id: 'message' },
        ...row('Message', model.message.text ?? '(not readable text)'),
        ...row('Message hex', h('span', { className: 'mono wrap' }, model.message.hex)),
      ),
    );
  if (parts.length === 0) return null;
  return h('div', { className: 'card' }, h('h2', {}, 'What it does'), ...parts);
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
  const { model } = view;
  const status = h('div', { className: 'status-slot' });
  const startOver = h('button', { type: 'button', id: 'start-over' }, 'Reject and start over');
  startOver.addEventListener('click', () => {
    resetRequest();
    go('scan');
  });
  // A refused request has no Sign button at all (not a disabled one).
  let signButton: HTMLButtonElement | null = null;
  let updateSign = () => {};
  if (model.verdict.allowed) {
    const button = h(
      'button',
      { type: 'button', className: 'primary', id: 'sign-button' },
      'Sign with the HSM',
    );
    signButton = button;
    updateSign = () => {
      const enough = state.approvals.length >= model.verdict.requiredApprovals;
      button.disabled = !enough;
      button.title = enough ? '' : 'More approvals are needed';
    };
    updateSign();
    button.addEventListener('click', () => {
      button.disabled = true;
      void withStatus(status, 'Signing inside the HSM and verifying every signature…', () =>
        call('sign', model.requestId, state.approvals),
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
  }

  return h(
    'section',
    { className: 'screen review', 'aria-labelledby': 'screen-title' },
    h('h1', { id: 'screen-title', tabindex: -1 }, `Review: ${model.kindName} on ${model.network}`),
    verdictBanner(model),
    headline(model),
    warnings(model),
    h('div', { className: 'card' }, h('h2', {}, 'Where the value goes'), movements(model)),
    reasonsCard(model),
    h('div', { className: 'card' }, details(model)),
    whatItDoes(model),
    model.verdict.allowed && model.verdict.requiredApprovals > 0 ? approvalsPanel(view, updateSign) : null,
    h('div', { className: 'actions' }, signButton, startOver),
    status,
  );
}
