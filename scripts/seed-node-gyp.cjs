// better-sqlite3 compiles from source when its prebuilt binary cannot be downloaded (as on machines
// without access to GitHub). node-gyp then downloads Node's headers, which fails offline too. Debian's
// nodejs package ships the very same headers under /usr/include/node, so we seed node-gyp's header cache
// from them before pnpm builds anything. Where the cache already exists or no headers are installed,
// this does nothing and node-gyp behaves as usual.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const version = process.versions.node;
const devDir = process.env.npm_config_devdir || path.join(os.homedir(), '.cache', 'node-gyp');
const dir = path.join(devDir, version);
const systemHeaders = '/usr/include/node';
const systemVersionHeader = path.join(systemHeaders, 'node_version.h');

function systemHeadersMatch() {
  if (!fs.existsSync(systemVersionHeader)) return false;
  const text = fs.readFileSync(systemVersionHeader, 'utf8');
  const part = (name) => (text.match(new RegExp(`#define ${name} (\\d+)`)) || [])[1];
  return `${part('NODE_MAJOR_VERSION')}.${part('NODE_MINOR_VERSION')}.${part('NODE_PATCH_VERSION')}` === version;
}

if (!fs.existsSync(path.join(dir, 'installVersion')) && systemHeadersMatch()) {
  fs.mkdirSync(path.join(dir, 'include'), { recursive: true });
  const link = path.join(dir, 'include', 'node');
  if (!fs.existsSync(link)) fs.symlinkSync(systemHeaders, link);
  fs.writeFileSync(path.join(dir, 'installVersion'), '11\n');
  console.log(`seeded node-gyp headers for ${version} from ${systemHeaders}`);
}
