/**
 * Unlock's audit warning: the whole log overdue for a full verification (policy audit.fullVerifyEvery: start-up
 * checks only the pinned checkpoint and what follows it, so an edit of older history is found only by `audit
 * verify`), work a stopped process left (a discard, an unfinished signing), or a pin a review could not close.
 * Shown on the unlocked screen and, while it stands, in the header's status area.
 */
import { go, state } from '../state.js';
import { h } from './dom.js';

const REMEDY = 'In this app: open Audit (Alt+5) and choose "Verify the log" (it lists any unfinished work).';

/** The warning box for a screen, or null when there is no warning. */
export function auditWarningBox(): HTMLElement | null {
  if (!state.unlocked || !state.auditWarning) return null;
  return h(
    'div',
    { className: 'notice warning', role: 'alert', id: 'audit-warning' },
    h('p', { className: 'notice-title' }, 'Audit warning'),
    h('p', {}, state.auditWarning),
    h('p', {}, REMEDY),
  );
}

/** Updates the header's status button (hidden when there is no warning); it opens the Audit screen. */
export function renderAuditStatus(): void {
  const status = document.getElementById('audit-status');
  if (!status) return;
  const show = state.unlocked && state.auditWarning !== null;
  status.hidden = !show;
  status.textContent = show ? 'Audit warning' : '';
  if (show) status.setAttribute('title', state.auditWarning!);
  else status.removeAttribute('title');
  status.onclick = show ? () => go('audit') : null;
}

/** A full verification succeeded: the period starts again, so the warning no longer stands. */
export function clearAuditWarning(): void {
  state.auditWarning = null;
  renderAuditStatus();
  document.getElementById('audit-warning')?.remove();
}
