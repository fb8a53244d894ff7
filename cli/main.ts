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
const init = () => import('./commands/init.js');

export function buildProgram(): Command {
  const program = new Command('coldsign')
    .description('Air-gapped signing appliance: review requests, check the policy, sign inside the HSM, audit everything.')
    .version('0.1.0')
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false });

  program
    .command('init')
    .description('create the coldsign home: HSM connection (embedded SoftHSM2 by default), database, officers')
    .option('--softhsm', 'use the embedded SoftHSM2 token inside COLDSIGN_HOME (the default)')
    .option('--module <path>', 'PKCS#11 module of an existing HSM (e.g. /opt/cloudhsm/lib/libcloudhsm_pkcs11.so)')
    .option('--token <label>', 'token label on that HSM')
    .option('--officer <name=pubkey>', 'enrol an officer with their Ed25519 public key (64 hex); repeatable', collect, [])
    .option('--quorum <m>', 'officer signatures needed for policy changes', parsePositiveInt)
    .option('--json', 'print a JSON report')
    .action(lazy(init, (m) => m.initCommand));

  const keysCommand = program.command('keys').description('generate, list and show HSM keys');
  keysCommand
    .command('generate')
    .description('generate a secp256k1 key inside the HSM (private, sensitive, non-extractable)')
    .addOption(new Option('--chain <chain>', 'chain of the key').choices(['btc', 'evm']).makeOptionMandatory())
    .requiredOption('--label <label>', 'name of the key')
    .addOption(new Option('--script <type>', 'Bitcoin script type').choices(['p2wpkh', 'p2sh-p2wpkh', 'p2pkh']))
    .addOption(new Option('--network <network>', 'Bitcoin network').choices(['mainnet', 'testnet', 'signet', 'regtest']))
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

  return program;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parsePositiveInt(value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw makeError('USAGE', `"${value}" is not a positive whole number.`);
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
