/**
 * The coldsign command (SPEC.md). Command modules are imported lazily so that start-up stays cheap;
 * every failure ends in one sentence on stderr and the SPEC exit code of its error family.
 */
import { Command, CommanderError, Option } from 'commander';
import { makeError } from '../core/errors.js';
import { reportError } from './output.js';

type Action = (...args: never[]) => Promise<void>;

/** Wraps a lazily imported action so that errors map to exit codes. */
function lazy<M>(load: () => Promise<M>, pick: (module: M) => Action) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const json = Boolean(command.opts().json);
    try {
      const action = pick(await load());
      await (action as (...a: unknown[]) => Promise<void>)(...args.slice(0, -1));
    } catch (error) {
      process.exitCode = reportError(error, json).exitCode;
    }
  };
}

const keys = () => import('./commands/keys.js');
const keysExportEvm = () => import('./commands/keys-export-evm.js');
const init = () => import('./commands/init.js');
const requests = () => import('./commands/requests.js');
const governance = () => import('./commands/governance.js');
const audit = () => import('./commands/audit.js');
const qr = () => import('./commands/qr.js');

const INPUTS_HELP =
  'request file(s): PSBT (binary, base64, hex), EVM request (hex or JSON), QR images (PNG/JPEG), or a file of UR parts';

export function buildProgram(): Command {
  const program = new Command('coldsign')
    .description(
      'Air-gapped signing appliance: review requests, check the policy, sign inside the HSM, audit everything.',
    )
    .version('0.1.0')
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false });

  program
    .command('init')
    .description(
      'create the coldsign home: HSM connection (embedded SoftHSM2 by default), database, officers',
    )
    .option('--softhsm', 'use the embedded SoftHSM2 token inside COLDSIGN_HOME (the default)')
    .option(
      '--module <path>',
      'PKCS#11 module of an existing HSM (e.g. /opt/cloudhsm/lib/libcloudhsm_pkcs11.so)',
    )
    .option('--token <label>', 'token label on that HSM')
    .option(
      '--officer <name=pubkey>',
      'enrol an officer with their Ed25519 public key (64 hex); repeatable',
      collect,
      [],
    )
    .option('--quorum <m>', 'officer signatures needed for policy changes', parsePositiveInt)
    .option('--json', 'print a JSON report')
    .action(lazy(init, (m) => m.initCommand));

  const keysCommand = program.command('keys').description('generate, list and show HSM keys');
  keysCommand
    .command('generate')
    .description('generate a secp256k1 key inside the HSM (private, sensitive, non-extractable)')
    .addOption(
      new Option('--chain <chain>', 'chain of the key').choices(['btc', 'evm']).makeOptionMandatory(),
    )
    .requiredOption('--label <label>', 'name of the key')
    .addOption(
      new Option('--script <type>', 'Bitcoin script type').choices(['p2wpkh', 'p2sh-p2wpkh', 'p2pkh']),
    )
    .addOption(
      new Option('--network <network>', 'Bitcoin network').choices([
        'mainnet',
        'testnet',
        'signet',
        'regtest',
      ]),
    )
    .option('--json', 'print a JSON report')
    .action(lazy(keys, (m) => m.generateCommand));
  keysCommand
    .command('list')
    .description('list the registered keys')
    .option('--json', 'print {"keys": [...]}')
    .action(lazy(keys, (m) => m.listCommand));
  keysCommand
    .command('show')
    .description('show one key: public key, address, descriptor')
    .argument('<label>', 'key label')
    .option('--json', 'print a JSON report')
    .option('--qr <file.png>', 'also write the address as a QR code image')
    .action(lazy(keys, (m) => m.showCommand));
  keysCommand
    .command('export')
    .description('export keys for an online wallet to import (metamask, keystone: crypto-account pairing QR)')
    .argument('[labels...]', "keys to export (default: every key of the format's chain)")
    .requiredOption('--format <format>', 'metamask | keystone')
    .option('--out <file>', 'write the export to FILE')
    .option('--qr <dir>', 'also write it as QR frames DIR/frame-0001.png, …')
    .option('--json', 'print a JSON report')
    .action(lazy(keysExportEvm, (m) => m.exportEvmCommand));

  program
    .command('inspect')
    .description('decode requests and show what they would do, with the policy verdict; never signs')
    .argument('<input...>', INPUTS_HELP)
    .option('--json', 'print the SPEC report')
    .action(lazy(requests, (m) => m.inspectCommand));

  program
    .command('approve')
    .description('as an officer, approve a request: signs its request id with your officer key')
    .argument('<input...>', INPUTS_HELP)
    .requiredOption(
      '--key <officer.pem>',
      'your encrypted officer key file (passphrase from COLDSIGN_PASSPHRASE or a prompt)',
    )
    .requiredOption('--out <approval.json>', 'where to write the approval')
    .option('--json', 'print a JSON report')
    .action(lazy(governance, (m) => m.approveCommand));

  program
    .command('sign')
    .description(
      'review, check the policy and approvals, sign inside the HSM, audit, and write the signed output',
    )
    .argument('<input...>', INPUTS_HELP)
    .requiredOption('--out <path>', 'output file (a directory when several requests are given)')
    .addOption(
      new Option('--format <format>', 'output encoding')
        .choices(['auto', 'psbt', 'base64', 'hex', 'ur', 'json'])
        .default('auto'),
    )
    .option('--qr <dir>', 'also write the output as QR frames DIR/frame-0001.png, … (animated UR when large)')
    .option('--approval <file>', 'an officer approval (from coldsign approve); repeatable', collect, [])
    .option('--fragment <bytes>', 'UR fragment size of the QR frames (default 400)', parsePositiveInt)
    .addOption(
      new Option(
        '--ur-type <type>',
        'UR type of a signed PSBT (default: as the request came, else crypto-psbt)',
      ).choices(['crypto-psbt', 'psbt']),
    )
    .option('--json', 'print the SPEC report')
    .action(lazy(requests, (m) => m.signCommand));

  const officer = program.command('officer').description('officer keys');
  officer
    .command('keygen')
    .description('make an officer key (Ed25519, encrypted PKCS#8 PEM); prints the public key last')
    .argument('<name>', 'officer name')
    .requiredOption('--out <officer.pem>', 'where to write the encrypted key (never overwritten)')
    .option('--json', 'print a JSON report')
    .action(lazy(governance, (m) => m.officerKeygenCommand));

  const policy = program.command('policy').description('the signing policy');
  policy
    .command('show')
    .description('print the policy in force')
    .option('--json', 'print the policy document')
    .action(lazy(governance, (m) => m.policyShowCommand));
  policy
    .command('sign')
    .description('add your officer signature to a policy document, in place')
    .argument('<policy.json>', 'policy document')
    .requiredOption('--key <officer.pem>', 'your encrypted officer key file')
    .option('--json', 'print a JSON report')
    .action(lazy(governance, (m) => m.policySignCommand));
  policy
    .command('apply')
    .description('put a policy in force: needs a quorum of officer signatures and a higher version')
    .argument('<policy.json>', 'signed policy document')
    .option('--json', 'print a JSON report')
    .action(lazy(governance, (m) => m.policyApplyCommand));

  const auditCommand = program.command('audit').description('the tamper-evident audit log');
  auditCommand
    .command('verify')
    .description('verify the hash chain, every checkpoint signature and the checkpoint pinned in the HSM')
    .option('--file <export.jsonl>', 'verify an exported log offline instead (no HSM, no home needed)')
    .option('--json', 'print a JSON report')
    .action(lazy(audit, (m) => m.auditVerifyCommand));
  auditCommand
    .command('export')
    .description('write the log as JSON Lines with its checkpoints and audit public key')
    .requiredOption('--out <file>', 'export file')
    .option('--json', 'print a JSON report')
    .action(lazy(audit, (m) => m.auditExportCommand));

  const qrCommand = program.command('qr').description('QR codes and animated URs');
  qrCommand
    .command('encode')
    .description('write a file as QR frames (animated UR when it does not fit one frame)')
    .argument('<file>', 'file to encode (a PSBT becomes crypto-psbt, anything else bytes)')
    .requiredOption('--out <dir>', 'directory for frame-0001.png, …')
    .option('--ur-type <type>', 'crypto-psbt, psbt or bytes')
    .option('--fragment <bytes>', 'UR fragment size (default 400)', parsePositiveInt)
    .option('--json', 'print a JSON report')
    .action(lazy(qr, (m) => m.qrEncodeCommand));
  qrCommand
    .command('decode')
    .description('read QR images (the frames of an animated UR in any order) back into the payload')
    .argument('<image...>', 'PNG or JPEG images')
    .option('--out <file>', 'write the payload here')
    .option('--json', 'print a JSON report')
    .action(lazy(qr, (m) => m.qrDecodeCommand));

  return program;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parsePositiveInt(value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value))
    throw makeError('USAGE', `"${value}" is not a positive whole number.`);
  return Number(value);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  program.exitOverride();
  program.configureOutput({ outputError: () => {} });
  for (const command of program.commands) {
    command.exitOverride();
    command.configureOutput({ outputError: () => {} });
    for (const sub of command.commands) {
      sub.exitOverride();
      sub.configureOutput({ outputError: () => {} });
    }
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      const message = error.message.replace(/^error: /, '');
      const sentence = `${message.charAt(0).toUpperCase()}${message.slice(1)}${/[.!?]$/.test(message) ? '' : '.'} See \`coldsign --help\`.`;
      return reportError(makeError('USAGE', sentence), json).exitCode;
    }
    return reportError(error, json).exitCode;
  }
}
