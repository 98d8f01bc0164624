import { parseArgs, UsageError } from '../../../cli/io';
import { ConfigError, RegistrarError } from '../../../lib/errors';

const spec = { values: ['namespace', 'max'], switches: ['live'], lists: ['cluster'] };

describe('parseArgs (util.parseArgs with the CLI messages)', () => {
  it('reads values, switches, repeated options and positionals; the last of a repeated value wins', () => {
    const parsed = parseArgs(
      ['a.json', '--namespace', 'x', '--namespace=y', '--live', '--cluster', 'a', '--cluster=b', '-', '--max', '-1'],
      spec,
    );
    expect(parsed.positional).toEqual(['a.json', '-']);
    expect(parsed.values).toEqual({ namespace: 'y', max: '-1' });
    expect([...parsed.switches]).toEqual(['live']);
    expect(parsed.lists).toEqual({ cluster: ['a', 'b'] });
  });

  it('takes what follows -- as positional', () => {
    expect(parseArgs(['--', '--live'], spec).positional).toEqual(['--live']);
  });

  it.each([
    [['--bogus'], 'unknown option --bogus'],
    [['--bogus=1'], 'unknown option --bogus'],
    [['-h'], 'unknown option -h'],
    [['--namespace'], '--namespace needs a value'],
    [['--namespace', '--live'], '--namespace needs a value'],
    [['--cluster'], '--cluster needs a value'],
    [['--live=yes'], '--live takes no value'],
  ])('refuses %j with a UsageError: %s', (args, message) => {
    expect(() => parseArgs(args, spec)).toThrow(new UsageError(message));
  });

  it('makes UsageError a named error with a cause, apart from ConfigError', () => {
    const cause = new Error('ENOENT');
    const error = new UsageError('cannot read a.json', { cause });
    expect(error).toBeInstanceOf(RegistrarError);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ name: 'UsageError', code: 'usage', cause });
  });
});
