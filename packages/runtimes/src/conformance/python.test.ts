import Dockerode from 'dockerode';
import { ensureRuntimeImages, localPythonCommand, pythonProxyPath } from '../images.js';
import { imageName, resolveKind } from '../manifest.js';
import { pythonFixtures } from './fixtures.js';
import { dockerAvailable, dockerProxy, processProxy } from './harness.js';
import { describeRuntimeConformance } from './suite.js';

const docker = new Dockerode();
const hasDocker = await dockerAvailable(docker);
const entry = resolveKind('python:default');
if (!entry) throw new Error('the manifest has no python default');

describeRuntimeConformance('python proxy as a local process', processProxy([localPythonCommand(), pythonProxyPath]), {
  fixtures: pythonFixtures,
});

describeRuntimeConformance(`${imageName(entry)} in Docker`, dockerProxy(docker, imageName(entry)), {
  fixtures: pythonFixtures,
  setup: async () => {
    await ensureRuntimeImages({ docker });
  },
  ...(hasDocker ? {} : { skip: 'no Docker daemon answers' }),
});
