import { runCli } from '../../helpers/cli-io';

const run = (args: string[]) => runCli(args, { NAMESPACE: 'kudos.local' });

describe('registrar usage mistakes', () => {
  it.each([
    [[]],
    [['nope']],
    [['plan']],
    [['plan', 'a.json', 'b.json']],
    [['plan', 'a.json', '--bogus']],
    [['plan', 'a.json', '--live', '--endpoint', 'not a url']],
    [['reconcile', 'extra']],
    [['reconcile', '--max-deletes']],
    [['reconcile', '--endpoint', 'localhost:4566']],
  ])('answers %j with one line on stderr and exit 2', async (args) => {
    const { code, out, err } = await run(args);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/^registrar[^\n]*\n$/);
  });
});
