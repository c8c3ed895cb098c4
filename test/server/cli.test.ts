import t from 'tap';
import { neuronetes } from '../helpers/cli.ts';

t.test('--help lists commands and, per command, flags with their env vars', async (t) => {
  const top = await neuronetes('--help');
  t.equal(top.code, 0);
  t.match(top.stdout, /serve\s+run the extender/);
  const serve = await neuronetes('serve', '--help');
  t.equal(serve.code, 0);
  t.match(serve.stdout, /--config .*\[\$NEURONETES_CONFIG\]/);
  t.match(serve.stdout, /--port .*\[\$PORT\] \(default 8080\)/);
});

t.test('unknown commands and flags exit 2 with usage', async (t) => {
  const cmd = await neuronetes('sereve');
  t.equal(cmd.code, 2);
  t.match(cmd.stderr, /unknown command "sereve"/);
  const flag = await neuronetes('serve', '--prot', '80');
  t.equal(flag.code, 2);
  t.match(flag.stderr, /Unknown option '--prot'/);
});

t.test('serve refuses bad flag values before starting', async (t) => {
  const res = await neuronetes('serve', '--port', 'eighty');
  t.equal(res.code, 1);
  t.match(res.stderr, /--port must be 0\.\.65535/);
  const tls = await neuronetes('serve', '--tls-cert', 'x.pem');
  t.match(tls.stderr, /--tls-cert and --tls-key go together/);
});
