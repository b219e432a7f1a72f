/**
 * Conformance fixtures for the runtimes Whirl ships. Each snippet is a complete action in the
 * runtime's language; see `ConformanceFixtures` for what each must do.
 */
import { makeZip } from '../testing/archives.js';
import type { ConformanceFixtures } from './suite.js';

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

export const nodejsFixtures: ConformanceFixtures = {
  echo: 'function main(params) { return params }',
  customMain: { code: 'function niam() { return { main: "niam" } }', main: 'niam' },
  env: `function main(params) {
    const env = {};
    for (const k of Object.keys(process.env)) if (k.startsWith('__OW_') || k.startsWith('MY_')) env[k] = process.env[k];
    return { env, keys: Object.keys(params).sort() };
  }`,
  logs: 'function main(p) { console.log(p.out); console.error(p.err); return {} }',
  throws: 'function main() { throw new Error("boom") }',
  rejects: 'async function main() { throw new Error("boom") }',
  nonObject: 'function main() { return 42 }',
  exits: 'function main() { process.exit(1) }',
  slow: `async function main(p) {
    console.log('start ' + p.i);
    await new Promise((r) => setTimeout(r, p.ms));
    console.log('end ' + p.i);
    return { i: p.i };
  }`,
  badInit: 'function main( {',
  printsSentinel: `function main() { console.log('${SENTINEL}'); console.error('${SENTINEL}'); return {} }`,
  zip: {
    files: [
      { name: 'index.js', content: 'const h = require("./lib/helper.js"); exports.main = () => ({ zipped: true, helper: h() })' },
      { name: 'lib/helper.js', content: 'module.exports = () => 42' },
    ],
  },
};

export const pythonFixtures: ConformanceFixtures = {
  echo: 'def main(args):\n    return args\n',
  customMain: { code: 'def niam(args):\n    return {"main": "niam"}\n', main: 'niam' },
  env: [
    'import os',
    'def main(args):',
    '    env = {k: v for k, v in os.environ.items() if k.startswith("__OW_") or k.startswith("MY_")}',
    '    return {"env": env, "keys": sorted(args.keys())}',
    '',
  ].join('\n'),
  logs: 'import sys\ndef main(args):\n    print(args["out"])\n    print(args["err"], file=sys.stderr)\n    return {}\n',
  throws: 'def main(args):\n    raise ValueError("boom")\n',
  nonObject: 'def main(args):\n    return 42\n',
  exits: 'import os\ndef main(args):\n    os._exit(1)\n',
  slow: [
    'import time',
    'def main(args):',
    '    print("start %s" % args["i"])',
    '    time.sleep(args["ms"] / 1000)',
    '    print("end %s" % args["i"])',
    '    return {"i": args["i"]}',
    '',
  ].join('\n'),
  badInit: 'def main(args:\n    return {}\n',
  printsSentinel: `import sys\ndef main(args):\n    print("${SENTINEL}")\n    print("${SENTINEL}", file=sys.stderr)\n    return {}\n`,
  zip: {
    files: [
      { name: '__main__.py', content: 'from helper import answer\n\ndef main(args):\n    return {"zipped": True, "helper": answer()}\n' },
      { name: 'helper.py', content: 'def answer():\n    return 42\n' },
    ],
  },
};

/**
 * Executables for the docker skeleton: node scripts, params in argv[2] (on stdin only when too big
 * for argv), result on the last stdout line.
 */
function nodeScript(body: string): string {
  return `#!/usr/bin/env node\nconst params = JSON.parse(process.argv[2] ?? require('node:fs').readFileSync(0, 'utf8'));\n${body}\n`;
}

export const dockerSkeletonFixtures: ConformanceFixtures = {
  echo: nodeScript('console.log(JSON.stringify(params));'),
  customMain: { code: nodeScript('console.log(JSON.stringify({ main: "niam" }));'), main: 'niam' },
  env: nodeScript(`const env = {};
for (const k of Object.keys(process.env)) if (k.startsWith('__OW_') || k.startsWith('MY_')) env[k] = process.env[k];
console.log(JSON.stringify({ env, keys: Object.keys(params).sort() }));`),
  logs: nodeScript('console.log(params.out); console.error(params.err); console.log("{}");'),
  throws: nodeScript('throw new Error("boom");'),
  nonObject: nodeScript('console.log("42");'),
  slow: nodeScript(`console.log('start ' + params.i);
setTimeout(() => { console.log('end ' + params.i); console.log(JSON.stringify({ i: params.i })); }, params.ms);`),
  // An archive without the `exec` file.
  badInit: { code: makeZip([{ name: 'README', content: 'no exec here' }]).toString('base64'), binary: true },
  printsSentinel: nodeScript(`console.log('${SENTINEL}'); console.error('${SENTINEL}'); console.log('{}');`),
  zip: {
    files: [
      { name: 'exec', content: nodeScript('console.log(JSON.stringify({ zipped: true, helper: require("./helper.js")() }));') },
      { name: 'helper.js', content: 'module.exports = () => 42' },
    ],
  },
};
