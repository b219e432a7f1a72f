import Dockerode from 'dockerode';
import { ensureRuntimeImages, nodejsProxyPath } from '../images.js';
import { imageName, resolveKind } from '../manifest.js';
import { nodejsFixtures } from './fixtures.js';
import { dockerAvailable, dockerProxy, processProxy } from './harness.js';
import { describeRuntimeConformance } from './suite.js';

const docker = new Dockerode();
const hasDocker = await dockerAvailable(docker);
const entry = resolveKind('nodejs:default');
if (!entry) throw new Error('the manifest has no nodejs default');

describeRuntimeConformance('nodejs proxy as a local process', processProxy([process.execPath, nodejsProxyPath]), {
  fixtures: nodejsFixtures,
});

describeRuntimeConformance(`${imageName(entry)} in Docker`, dockerProxy(docker, imageName(entry)), {
  fixtures: nodejsFixtures,
  setup: async () => {
    await ensureRuntimeImages({ docker });
  },
  ...(hasDocker ? {} : { skip: 'no Docker daemon answers' }),
});
