'use strict';
// A module identity (azure-iothub Registry.addModule) with the ModuleClient: telemetry, its twin's reported and
// desired properties, and a direct method the service invokes on the module. Not over HTTP: the Node SDK's HTTP
// transport posts a module's telemetry to its device's path, which IoT Hub refuses, and has no twin or methods.
const { Client: ServiceClient } = require('azure-iothub');
const { ModuleClient, Message } = require('azure-iot-device');
const { Registry } = require('azure-iothub');
const { TRANSPORTS, waitFor, run } = require('./lib/common');

run(async ({ transport, deviceId, serviceConnectionString }) => {
  const moduleId = 'm1';
  const registry = Registry.fromConnectionString(serviceConnectionString);
  await registry.create({ deviceId });
  const created = (await registry.addModule({ deviceId, moduleId })).responseBody;
  const hostName = /HostName=([^;]+)/.exec(serviceConnectionString)[1];
  const client = ModuleClient.fromConnectionString(`HostName=${hostName};DeviceId=${deviceId};ModuleId=${moduleId};`
    + `SharedAccessKey=${created.authentication.symmetricKey.primaryKey}`, TRANSPORTS[transport]());
  await client.open();
  const service = ServiceClient.fromConnectionString(serviceConnectionString);
  try {
    const message = new Message('from the module');
    message.messageId = 'mid-' + deviceId;
    await client.sendEvent(message);

    const twin = await client.getTwin();
    const patches = [];
    twin.on('properties.desired', (patch) => patches.push(patch));
    await new Promise((resolve, reject) =>
      twin.properties.reported.update({ stage: 'ready' }, (err) => (err ? reject(err) : resolve())));
    const reported = await waitFor('the module\'s reported properties', async () =>
      (await registry.getModuleTwin(deviceId, moduleId)).responseBody.properties.reported.stage);
    await registry.updateModuleTwin(deviceId, moduleId, { properties: { desired: { rate: 5 } } }, '*');
    const patch = await waitFor('the module\'s desired properties patch', () => patches.find((p) => p.rate === 5));

    const requests = [];
    client.onMethod('ping', (request, response) => {
      requests.push(request.payload);
      response.send(200, { pong: request.payload, moduleId }, () => {});
    });
    const params = { methodName: 'ping', payload: 'hello', responseTimeoutInSeconds: 30 };
    const result = await waitFor('the module\'s method to be answered', async () => {
      try {
        return await service.invokeDeviceMethod(deviceId, moduleId, params);
      } catch (err) {
        if (err.response && err.response.statusCode === 404) {
          return null; // not subscribed to its methods yet
        }
        throw err;
      }
    });
    return {
      messageId: message.messageId,
      reported,
      desiredRate: patch.rate,
      method: { status: result.result.status, payload: result.result.payload, requests },
    };
  } finally {
    await client.close();
  }
});
