'use strict';
// The device reads its twin and reports properties; the service (azure-iothub Registry and Twin) reads them and
// updates desired properties, which reach the device as a patch. Not over HTTP: the Node SDK has no twin there.
const { createDevice, waitFor, run } = require('./lib/common');

run(async ({ transport, deviceId, serviceConnectionString }) => {
  const { registry, client } = await createDevice(serviceConnectionString, deviceId, transport);
  await client.open();
  try {
    const twin = await client.getTwin();
    const patches = [];
    twin.on('properties.desired', (patch) => patches.push(patch));
    await new Promise((resolve, reject) =>
      twin.properties.reported.update({ firmware: '1.2.3', sensor: { unit: 'C' } }, (err) => (err ? reject(err) : resolve())));

    const reported = await waitFor('the reported properties in the service twin', async () => {
      const serviceTwin = (await registry.getTwin(deviceId)).responseBody;
      return serviceTwin.properties.reported.firmware ? serviceTwin.properties.reported : null;
    });
    const serviceTwin = (await registry.getTwin(deviceId)).responseBody;
    await serviceTwin.update({ tags: { site: 'north' }, properties: { desired: { mode: 'eco', level: 3 } } });
    const patch = await waitFor('the desired properties patch on the device',
      () => patches.find((p) => p.mode === 'eco'));
    const tags = (await registry.getTwin(deviceId)).responseBody.tags;
    return {
      reported: { firmware: reported.firmware, sensor: reported.sensor },
      desiredPatch: { mode: patch.mode, level: patch.level, version: patch.$version },
      deviceDesired: { mode: twin.properties.desired.mode, level: twin.properties.desired.level },
      tags,
    };
  } finally {
    await client.close();
  }
});
