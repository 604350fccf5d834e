'use strict';
// The device registers a direct method; the service client (azure-iothub) invokes it and gets the device's answer.
// Not over HTTP: the Node SDK has no direct methods there.
const { Client: ServiceClient } = require('azure-iothub');
const { createDevice, waitFor, run } = require('./lib/common');

run(async ({ transport, deviceId, serviceConnectionString }) => {
  const { client } = await createDevice(serviceConnectionString, deviceId, transport);
  await client.open();
  const requests = [];
  client.onDeviceMethod('setLevel', (request, response) => {
    requests.push({ methodName: request.methodName, payload: request.payload });
    response.send(200, { applied: request.payload.level, by: deviceId }, () => {});
  });
  const service = ServiceClient.fromConnectionString(serviceConnectionString);
  try {
    const params = { methodName: 'setLevel', payload: { level: 7 }, responseTimeoutInSeconds: 30 };
    // The device subscribes to its methods after it connects, as with IoT Hub: until then the hub answers 404
    // (the device is not online for methods); try again until it is.
    const result = await waitFor('the method to be answered', async () => {
      try {
        return await service.invokeDeviceMethod(deviceId, params);
      } catch (err) {
        if (err.response && err.response.statusCode === 404) {
          return null;
        }
        throw err;
      }
    });
    return { status: result.result.status, payload: result.result.payload, requests };
  } finally {
    await client.close();
  }
});
