/**
 * The coldsign command (SPEC.md). Command modules are imported lazily so that start-up stays cheap;
 * every failure ends in one sentence on stderr and the SPEC exit code of its error family.
 */
import { Command, CommanderError, Option } from 'commander';
import { makeError } from '../core/errors.js';
import { dropOutputOnClosedPipe, reportError } from './output.js';

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
const keysExport = () => import('./commands/keys-export.js');
const init = () => import('./commands/init.js');
const requests = () => import('./commands/requests.js');
const governance = () => import('./commands/governance.js');
const audit = () => import('./commands/audit.js');
const anchor = () => import('./commands/anchor.js');
const qr = () => import('./commands/qr.js');
const hsm = () => import('./commands/hsm.js');
const backup = () => import('./commands/backup.js');
const wallets = () => import('./commands/wallets.js');

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
    .option('--slot <id>', 'slot id of the token (CloudHSM: the cluster slot)', parseSlotId)
    .option('--serial <serial>', 'serial number of the token')
    .option('--profile <name>', 'HSM profile: softhsm2, cloudhsm or generic (detected when absent)')
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
    .option('--count <n>', 'make a pool of N keys labelled LABEL-1 … LABEL-N', parsePositiveInt)
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
    .description('export keys for an online (watch-only) wallet: descriptors, Core, Electrum, Caravan, …')
    .argument('[label...]', "keys to export (default: every key of the format's chain)")
    .requiredOption(
      '--format <format>',
      'descriptor, core, electrum, caravan (Bitcoin) or metamask, keystone (EVM crypto-account pairing); see docs/interop.md',
    )
    .option('--out <file>', 'write the export to this file (never overwritten); default: standard output')
    .option(
      '--qr <dir>',
      'also write it as QR frames DIR/frame-0001.png, … (descriptor: crypto-output/crypto-account UR)',
    )
    .option('--fragment <bytes>', 'UR fragment size of the QR frames (default 700)', parsePositiveInt)
    .option('--json', 'print a JSON report')
    .action(lazy(keysExport, (m) => m.keysExportCommand));

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
    .option('--force', 'replace an existing output file')
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
        .choices(['auto', 'psbt', 'base64', 'hex', 'base43', 'ur', 'json'])
        .default('auto'),
    )
    .option('--qr <dir>', 'also write the output as QR frames DIR/frame-0001.png, … (animated UR when large)')
    .option('--approval <file>', 'an officer approval (from coldsign approve); repeatable', collect, [])
    .option('--fragment <bytes>', 'UR fragment size of the QR frames (default 700)', parsePositiveInt)
    .option(
      '--finalize',
      'Bitcoin: also finalize and extract the transaction when every input is complete (default: partial signatures)',
    )
    .option('--force', 'replace an existing output file')
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

  const walletsCommand = program
    .command('wallets')
    .description('registered multisig wallets: export to a coordinator, import into a policy draft');
  walletsCommand
    .command('export')
    .description('write a registered wallet as a descriptor, a Caravan configuration or a BSMS record')
    .argument('<name>', 'the wallet name in the policy')
    .addOption(
      new Option('--format <format>', 'what to write')
        .choices(['descriptor', 'caravan', 'bsms'])
        .makeOptionMandatory(),
    )
    .option('--out <file>', 'write to this file (never overwritten without --force)')
    .option('--force', 'overwrite --out')
    .option('--json', 'print a JSON report')
    .action(lazy(wallets, (m) => m.walletsExportCommand));
  walletsCommand
    .command('import')
    .description("read a coordinator's descriptor, Caravan configuration or BSMS record into a policy draft")
    .argument('<file>', 'descriptor, Caravan wallet configuration (JSON) or BSMS descriptor record')
    .requiredOption('--out <draft.json>', 'the policy draft to write (officers sign and apply it)')
    .option('--name <name>', "the wallet name in the policy (default: the Caravan configuration's name)")
    .addOption(
      new Option('--network <network>', 'network, when the file does not say it').choices([
        'mainnet',
        'testnet',
        'signet',
        'regtest',
      ]),
    )
    .option('--index <n>', 'register a ranged descriptor at receive address N (…/0/N)', parseIndex)
    .option('--force', 'overwrite --out')
    .option('--json', 'print a JSON report')
    .action(lazy(wallets, (m) => m.walletsImportCommand));

  const auditCommand = program.command('audit').description('the tamper-evident audit log');
  auditCommand
    .command('verify')
    .description(
      'verify the hash chain, the state tables, the newest checkpoint signature and the checkpoint pinned in the HSM',
    )
    .option('--file <export.jsonl>', 'verify an exported log offline instead (no HSM, no home needed)')
    .option('--all-signatures', 'check every checkpoint signature, not only the newest')
    .option(
      '--audit-key <hex>',
      'with --file: the audit public key you got out of band; an export signed by any other key is refused',
    )
    .option('--json', 'print a JSON report')
    .action(lazy(audit, (m) => m.auditVerifyCommand));
  auditCommand
    .command('export')
    .description('write the log as JSON Lines with its checkpoints and audit public key')
    .requiredOption('--out <file>', 'export file')
    .option('--force', 'replace an existing output file')
    .option('--json', 'print a JSON report')
    .action(lazy(audit, (m) => m.auditExportCommand));
  auditCommand
    .command('reanchor')
    .description(
      'after a rollback alarm: make a re-anchor request, sign it as an officer, or apply it with the officer quorum (docs/operations.md)',
    )
    .option('--out <file>', 'make a request naming what the rollback alarm found (needs the PIN)')
    .option('--reason <text>', 'with --out: why the officers re-anchor (recorded in the audit log)')
    .option(
      '--expires-in <hours>',
      'with --out: hours the request stays valid (default 24, at most 168)',
      Number,
    )
    .option('--force', 'with --out: replace an existing output file')
    .option('--sign <file>', 'add your officer signature to a request, in place (needs --key)')
    .option('--key <officer.pem>', 'with --sign: your encrypted officer key file')
    .option('--apply <file>', 'apply a request signed by the officer quorum (needs the PIN)')
    .option('--json', 'print a JSON report')
    .action(lazy(anchor, (m) => m.auditReanchorCommand));

  program
    .command('backup')
    .description(
      'write a consistent backup of the home: database, config and, for the embedded token, its files (see docs/operations.md)',
    )
    .requiredOption('--out <file>', 'backup file (outside the home)')
    .option('--force', 'replace an existing output file')
    .option('--json', 'print a JSON report')
    .action(lazy(backup, (m) => m.backupCommand));
  program
    .command('restore')
    .description('restore a backup into a new, empty COLDSIGN_HOME')
    .argument('<backup>', 'a file written by coldsign backup')
    .option('--json', 'print a JSON report')
    .action(lazy(backup, (m) => m.restoreCommand));

  const qrCommand = program.command('qr').description('QR codes and animated URs');
  qrCommand
    .command('encode')
    .description('write a file as QR frames (animated UR when it does not fit one frame)')
    .argument('<file>', 'file to encode (a PSBT becomes crypto-psbt, anything else bytes)')
    .requiredOption('--out <dir>', 'directory for frame-0001.png, …')
    .option('--force', 'replace an existing output file')
    .option('--ur-type <type>', 'crypto-psbt, psbt or bytes')
    .option('--fragment <bytes>', 'UR fragment size (default 700)', parsePositiveInt)
    .option('--json', 'print a JSON report')
    .action(lazy(qr, (m) => m.qrEncodeCommand));
  qrCommand
    .command('decode')
    .description('read QR images (the frames of an animated UR in any order) back into the payload')
    .argument('<image...>', 'PNG or JPEG images')
    .option('--out <file>', 'write the payload here')
    .option('--force', 'replace an existing output file')
    .option('--json', 'print a JSON report')
    .action(lazy(qr, (m) => m.qrDecodeCommand));

  program
    .command('hsm')
    .description('the HSM')
    .command('info')
    .description('module, token, slots, sessions, mechanisms, profile and the audit anchor (a doctor)')
    .option('--json', 'print a JSON report')
    .action(lazy(hsm, (m) => m.hsmInfoCommand));

  return program;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parseSlotId(value: string): number {
  if (!/^[0-9]{1,10}$/.test(value)) throw makeError('USAGE', `"${value}" is not a slot id (a whole number).`);
  return Number(value);
}

export function parseIndex(value: string): number {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(value) || Number(value) > 2 ** 31 - 1)
    throw makeError('USAGE', `"${value}" is not an address index (0 to 2147483647).`);
  return Number(value);
}

export function parsePositiveInt(value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value))
    throw makeError('USAGE', `"${value}" is not a positive whole number.`);
  return Number(value);
}

export async function main(argv: string[]): Promise<number> {
  dropOutputOnClosedPipe();
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
      const leaf = commandOf(program, argv);
      const unknown =
        error.code === 'commander.missingMandatoryOptionValue' ? unknownOption(leaf, argv) : undefined;
      const message = unknown ? `unknown option '${unknown}'` : error.message.replace(/^error: /, '');
      const sentence = `${message.charAt(0).toUpperCase()}${message.slice(1)}${/[.!?]$/.test(message) ? '' : '.'} See \`${helpCommandOf(leaf)} --help\`.`;
      return reportError(makeError('USAGE', sentence), json).exitCode;
    }
    return reportError(error, json).exitCode;
  }
}

/** The deepest (sub)command named by argv, so that a usage error points to its own help. */
function commandOf(program: Command, argv: string[]): Command {
  let command = program;
  for (const word of argv) {
    if (word.startsWith('-')) continue;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    command = sub;
  }
  return command;
}

function helpCommandOf(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * The first option in argv that `command` does not know: commander reports a missing required option before an
 * unknown one, so a typo such as `--otu` for `--out` would otherwise be reported as "--out is missing".
 */
function unknownOption(command: Command, argv: string[]): string | undefined {
  const known = new Set(['--help', '-h']);
  for (const option of command.options) {
    if (option.long) known.add(option.long);
    if (option.short) known.add(option.short);
  }
  const names = argv.filter((word) => word.startsWith('-') && word !== '-' && word !== '--');
  return names.map((word) => word.split('=')[0]!).find((name) => !known.has(name));
}
