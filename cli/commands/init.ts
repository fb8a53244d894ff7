/** `coldsign init`: creates the home, connects the HSM (embedded SoftHSM2 by default) and the database. */
import { initAppliance, planInit, type InitRequest } from '../../appliance/init.js';
import { auditKeyFingerprint, describeAuditKey } from '../audit-key.js';
import { printJson, println } from '../output.js';
import { PIN, readSecret } from '../secrets.js';

export interface InitOptions extends InitRequest {
  json?: boolean;
}

export async function initCommand(options: InitOptions): Promise<void> {
  // Everything is checked before the PIN is asked for.
  const { home, config, officers, quorum, embedded } = planInit(options);
  const pin = await readSecret(PIN, { confirm: embedded });
  const { auditPublicKey } = await initAppliance({ home, config, officers, quorum, embedded }, pin, () =>
    process.stderr.write('Another coldsign init is creating this home; waiting for it to finish...\n'),
  );

  const report = {
    home: home.dir,
    hsm: { module: config.hsm.module, token: config.hsm.token, embedded },
    officers: officers.map((o) => o.name),
    quorum,
    auditPublicKey,
    auditKeyFingerprint: auditKeyFingerprint(auditPublicKey),
  };
  if (options.json) return printJson(report);
  println(`Initialized coldsign home ${home.dir}`);
  println(
    `  HSM: ${embedded ? 'embedded SoftHSM2 token' : 'PKCS#11 module'} ${config.hsm.module}, token "${config.hsm.token}"`,
  );
  println(
    `  Officers: ${officers.length ? officers.map((o) => o.name).join(', ') : 'none'}; policy quorum ${quorum}`,
  );
  println(describeAuditKey(auditPublicKey));
  println(
    '  Officers name this audit public key as "appliance" in every policy they sign for this appliance.',
  );
  println(
    '  Give the audit public key to your auditors on paper: `audit verify --file EXPORT --audit-key KEY` pins it.',
  );
}
