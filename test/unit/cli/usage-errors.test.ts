import { PassThrough } from 'node:stream';
import { main } from '../../../cli/main';

async function run(args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => {
    out += c;
  });
  stderr.on('data', (c) => {
    err += c;
  });
  const code = await main(args, { stdin: new PassThrough(), stdout, stderr, env: { NAMESPACE: 'kudos.local' } });
  return { code, out, err };
}

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
