/** `whirl --version`: the CLI's version, and the server's build if one is configured and answers. */
import type { Factory } from '../../factory.js';

export async function runVersion(f: Factory): Promise<void> {
  const io = f.io;
  io.out.write(`whirl CLI ${f.cliVersion}\n`);
  let client;
  try {
    client = f.client();
  } catch {
    io.out.write('server: no apihost configured\n');
    return;
  }
  try {
    const info = await client.info();
    io.out.write(`server: ${client.opts.apihost} API ${info.api_version ?? 'unknown'} build ${info.build ?? 'unknown'} (buildno ${info.buildno ?? 'unknown'})\n`);
  } catch (e) {
    // The CLI version is still useful when the server is down: report, do not fail.
    io.out.write(`server: ${client.opts.apihost} unreachable (${e instanceof Error ? e.message : String(e)})\n`);
  }
}
