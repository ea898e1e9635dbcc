// The EPERM explanation is read by someone deciding which uid to run as: each
// case of kill(2)'s rule must name the right uids and the right fix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  describeSignalSender,
  describeSignalTarget,
  type SignalPermission,
  signalPermissionMessage,
  uidsAllowSignal,
} from '../lib/signal-permission';
import { permissionMessage } from '../lib/sidecar/diagnosis';

function permission(overrides: Partial<SignalPermission> = {}): SignalPermission {
  return {
    pid: 7,
    name: 'nginx',
    targetUid: { real: 101, saved: 101 },
    senderUid: { real: 1000, effective: 1000 },
    senderHasCapKill: false,
    ...overrides,
  };
}

describe('uidsAllowSignal follows kill(2)', () => {
  const cases: ReadonlyArray<readonly [string, Partial<SignalPermission>, boolean]> = [
    ['different uids, no CAP_KILL', {}, false],
    ['CAP_KILL', { senderHasCapKill: true }, true],
    ["our real uid is the target's real uid", { senderUid: { real: 101, effective: 0 } }, true],
    ["our effective uid is the target's real uid", { senderUid: { real: 1000, effective: 101 } }, true],
    ["our real uid is the target's saved uid", { targetUid: { real: 101, saved: 1000 } }, true],
    ["our uid is the target's effective uid only (not compared)", { targetUid: { real: 101, saved: 101 }, senderUid: { real: 5, effective: 5 } }, false],
    ['the saved uid unknown: the real one stands in', { targetUid: { real: 1000 } }, true],
  ];
  for (const [name, overrides, allowed] of cases) {
    it(`${allowed ? 'allows' : 'refuses'}: ${name}`, () => {
      assert.equal(uidsAllowSignal(permission(overrides)), allowed);
    });
  }
});

describe('the EPERM message', () => {
  it('names the target with its uid and this process with its uid and CAP_KILL, then the rule and both fixes', () => {
    assert.equal(
      signalPermissionMessage(permission()),
      'cannot signal nginx (pid 7, uid 101); this process runs as uid 1000 without CAP_KILL. ' +
        "A process may signal another only when its real or effective uid is the other's real or saved uid, " +
        'or when it has CAP_KILL. Fix: run as uid 101, or grant this process CAP_KILL',
    );
  });

  it('shows a saved or effective uid only where it differs from the real one', () => {
    const mixed = permission({ targetUid: { real: 101, saved: 0 }, senderUid: { real: 1000, effective: 2000 } });
    assert.equal(describeSignalTarget(mixed), 'nginx (pid 7, uid 101, saved uid 0)');
    assert.equal(describeSignalSender(mixed), 'this process runs as uid 1000 (effective uid 2000) without CAP_KILL');
    assert.equal(describeSignalSender(permission(), 'this sidecar'), 'this sidecar runs as uid 1000 without CAP_KILL');
  });

  it('blames a security module or seccomp filter, not the uids, when the uids allow the signal', () => {
    const message = signalPermissionMessage(permission({ senderHasCapKill: true }));
    assert.match(message, /with CAP_KILL, which kill\(2\) allows, so a security module \(SELinux, AppArmor\) or a seccomp filter refused the signal$/);
    assert.doesNotMatch(message, /Fix: run as uid/);
  });
});

describe("the sidecar's permission diagnosis", () => {
  it('puts the fix in Pod terms when the uids refuse, and keeps the library explanation when they allow', () => {
    assert.match(permissionMessage('SIGHUP', permission()), /^cannot send SIGHUP to nginx \(pid 7, uid 101\): operation not permitted; this sidecar runs as uid 1000 without CAP_KILL\. Fix: run the sidecar as the app's user \(securityContext\.runAsUser: 101\)/);
    assert.equal(
      permissionMessage('SIGHUP', permission({ senderUid: { real: 101, effective: 101 } })),
      'cannot send SIGHUP to nginx (pid 7, uid 101): operation not permitted; this sidecar runs as uid 101 without CAP_KILL, ' +
        'which kill(2) allows, so a security module (SELinux, AppArmor) or a seccomp filter refused the signal.',
    );
  });
});
