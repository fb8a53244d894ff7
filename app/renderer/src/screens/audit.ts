/** Audit: browse the hash-chained log, verify it, export it for the auditor. */
import type { AuditEntryView } from '../../../../appliance/api.js';
import { unfinishedWorkLines } from '../../../../appliance/audit-discard-lines.js';
import { call } from '../api.js';
import { auditWarningBox, clearAuditWarning } from '../ui/audit-warning.js';
import { h, saveBytes } from '../ui/dom.js';
import { errorBox, withStatus } from '../ui/notice.js';

const PAGE = 50;

function entriesTable(entries: AuditEntryView[]): HTMLElement {
  if (entries.length === 0) return h('p', {}, 'No entries here.');
  return h(
    'table',
    { className: 'table', id: 'audit-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { className: 'num' }, '#'),
        h('th', {}, 'Time'),
        h('th', {}, 'Event'),
        h('th', {}, 'Hash'),
        h('th', {}, 'Details'),
      ),
    ),
    h(
      'tbody',
      {},
      ...entries.map((e) =>
        h(
          'tr',
          {},
          h('td', { className: 'num' }, e.seq),
          h('td', {}, e.time),
          h('td', {}, e.type),
          h('td', { className: 'mono' }, `${e.hash.slice(0, 16)}…`),
          h(
            'td',
            {},
            h('details', {}, h('summary', {}, 'show'), h('pre', {}, JSON.stringify(e.payload, null, 2))),
          ),
        ),
      ),
    ),
  );
}

/** Signings that may have been signed without a recorded signature, and tails dropped after a crash: kept in view. */
function unfinishedWork(lines: string[]): HTMLElement[] {
  if (lines.length === 0) return [];
  return [
    h(
      'div',
      { className: 'notice warning' },
      h('p', {}, 'Unfinished work the log records (a process stopped mid-way):'),
      h('ul', { id: 'audit-unfinished-work' }, ...lines.map((line) => h('li', {}, line.trim()))),
    ),
  ];
}

export function auditScreen(): HTMLElement {
  const status = h('div', { className: 'status-slot' });
  const table = h('div', {});
  // Audit sequence numbers start at 1.
  let from = 1;
  const pageLabel = h('span', {});
  const load = () =>
    withStatus(status, 'Reading the audit log…', () => call('auditList', from, PAGE)).then(
      (entries) => {
        table.replaceChildren(entriesTable(entries));
        pageLabel.textContent =
          entries.length > 0
            ? `Entries #${from} to #${entries[entries.length - 1]!.seq}`
            : `No entries from #${from}`;
        previous.disabled = from <= 1;
        next.disabled = entries.length < PAGE;
      },
      (error: unknown) => status.replaceChildren(errorBox(error)),
    );
  const previous = h('button', { type: 'button' }, 'Previous page');
  previous.addEventListener('click', () => {
    from = Math.max(1, from - PAGE);
    void load();
  });
  const next = h('button', { type: 'button' }, 'Next page');
  next.addEventListener('click', () => {
    from += PAGE;
    void load();
  });
  void load();
  const verifyResult = h('div', { id: 'audit-verify-result', 'aria-live': 'polite' });
  const verify = h('button', { type: 'button', className: 'primary', id: 'audit-verify' }, 'Verify the log');
  verify.addEventListener('click', () => {
    void withStatus(status, 'Recomputing every hash and checking the signed head…', () =>
      call('auditVerify'),
    ).then(
      (r) => {
        if (r.ok) clearAuditWarning();
        verifyResult.replaceChildren(
          r.ok
            ? h(
                'p',
                { className: 'notice ok', role: 'status' },
                `The audit log verifies: ${r.entries} entries, chain and signed head intact.`,
              )
            : h(
                'p',
                { className: 'notice error', role: 'alert' },
                `The audit log does NOT verify at entry ${r.firstBad?.seq}: ${r.firstBad?.reason}`,
              ),
          ...(r.ok ? unfinishedWork(unfinishedWorkLines(r.unfinishedSignings, r.discarded)) : []),
        );
      },
      (error: unknown) => status.replaceChildren(errorBox(error)),
    );
  });
  const exportButton = h('button', { type: 'button', id: 'audit-export' }, 'Export for the auditor');
  exportButton.addEventListener('click', () => {
    void withStatus(status, 'Exporting the audit log…', () => call('auditExport')).then(
      (exported) => saveBytes(exported.name, new TextEncoder().encode(exported.text), 'application/json'),
      (error: unknown) => status.replaceChildren(errorBox(error)),
    );
  });
  return h(
    'section',
    { className: 'screen', 'aria-labelledby': 'screen-title' },
    h('h1', { id: 'screen-title', tabindex: -1 }, 'Audit log'),
    auditWarningBox(),
    h('div', { className: 'actions' }, verify, exportButton),
    verifyResult,
    status,
    table,
    h('div', { className: 'actions' }, previous, pageLabel, next),
  );
}
