/** The renderer entry: the app shell (header, navigation, one screen at a time) and keyboard shortcuts. */
import { call } from './api.js';
import { auditScreen } from './screens/audit.js';
import { keysScreen } from './screens/keys.js';
import { policyScreen } from './screens/policy.js';
import { resultScreen } from './screens/result.js';
import { reviewScreen } from './screens/review.js';
import { scanScreen } from './screens/scan.js';
import { unlockScreen } from './screens/unlock.js';
import { resetRequest, runCleanups, setNavigator, state, type ScreenName } from './state.js';
import { renderAuditStatus } from './ui/audit-warning.js';
import { h } from './ui/dom.js';

const SCREENS: Record<ScreenName, () => HTMLElement> = {
  unlock: unlockScreen,
  scan: scanScreen,
  review: reviewScreen,
  result: resultScreen,
  keys: keysScreen,
  policy: policyScreen,
  audit: auditScreen,
};

/** Navigation entries with their Alt+key shortcuts (also shown on the buttons). */
const NAV: Array<{ screen: ScreenName; label: string; key: string }> = [
  { screen: 'scan', label: 'Scan', key: '1' },
  { screen: 'review', label: 'Review', key: '2' },
  { screen: 'keys', label: 'Keys', key: '3' },
  { screen: 'policy', label: 'Policy', key: '4' },
  { screen: 'audit', label: 'Audit', key: '5' },
];

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const lockState = document.getElementById('lock-state')!;
let current: ScreenName = 'unlock';

function show(screen: ScreenName): void {
  const target = state.unlocked ? screen : 'unlock';
  runCleanups();
  current = target;
  document.body.dataset.screen = target;
  main.replaceChildren(SCREENS[target]());
  renderChrome();
  document.getElementById('screen-title')?.focus();
}

function renderChrome(): void {
  lockState.textContent = state.unlocked ? 'HSM unlocked' : 'Locked';
  lockState.className = state.unlocked ? 'state unlocked' : 'state locked';
  renderAuditStatus();
  if (!state.unlocked) {
    nav.replaceChildren();
    return;
  }
  const lock = h(
    'button',
    { type: 'button', id: 'lock-button', 'aria-keyshortcuts': 'Alt+L' },
    'Lock (Alt+L)',
  );
  lock.addEventListener('click', () => void lockNow());
  nav.replaceChildren(
    ...NAV.map((item) =>
      h(
        'button',
        {
          type: 'button',
          id: `nav-${item.screen}`,
          'aria-current': item.screen === current ? 'page' : null,
          'aria-keyshortcuts': `Alt+${item.key}`,
          onclick: () => show(item.screen),
        },
        `${item.label} `,
        h('kbd', {}, `Alt+${item.key}`),
      ),
    ),
    lock,
  );
}

async function lockNow(): Promise<void> {
  try {
    await call('lock');
  } finally {
    state.unlocked = false;
    state.auditHead = null;
    state.auditWarning = null;
    resetRequest();
    show('unlock');
  }
}

document.addEventListener('keydown', (event) => {
  if (!event.altKey || !state.unlocked) return;
  const item = NAV.find((n) => n.key === event.key);
  if (item) {
    event.preventDefault();
    show(item.screen);
  } else if (event.key.toLowerCase() === 'l') {
    event.preventDefault();
    void lockNow();
  }
});

setNavigator(show);
/** A reload while unlocked: the unlock's audit head and warning are asked for again before the first screen. */
async function restoreUnlockState(): Promise<boolean> {
  if (!(await call('isUnlocked'))) return false;
  const status = await call('unlockStatus');
  state.auditHead = status.head;
  state.auditWarning = status.auditWarning ?? null;
  return true;
}

void restoreUnlockState().then(
  (unlocked) => {
    state.unlocked = unlocked;
    show(unlocked ? 'scan' : 'unlock');
  },
  () => show('unlock'),
);
