'use strict';
// Short-lived tokens the device SDK renews while connected (over AMQP with a new put-token on the same
// connection): telemetry sent and a cloud-to-device message received after the first token has expired.
const { Client: ServiceClient } = require('azure-iothub');
const { Message } = require('azure-iot-device');
const { createDevice, waitFor, run } = require('./lib/common');

run(async ({ transport, deviceId, serviceConnectionString }) => {
  const { client } = await createDevice(serviceConnectionString, deviceId, transport);
  const lifetimeSeconds = 6;
  await client.setOptions({ tokenRenewal: { tokenValidTimeInSeconds: lifetimeSeconds, tokenRenewalMarginInSeconds: 3 } });
  const disconnects = [];
  client.on('disconnect', (err) => disconnects.push(String(err)));
  const received = [];
  client.on('message', (msg) => {
    received.push(msg.data.toString('utf8'));
    client.complete(msg, () => {});
  });
  await client.open();
  const firstExpiry = Date.now() + lifetimeSeconds * 1000;
  const service = ServiceClient.fromConnectionString(serviceConnectionString);
  try {
    await waitFor('the first token to expire', () => Date.now() > firstExpiry + 2000, 20);
    const message = new Message('after renewal');
    message.messageId = 'mid-' + deviceId;
    await client.sendEvent(message);
    await service.open();
    await service.send(deviceId, new Message('still listening'));
    await waitFor('the cloud-to-device message', () => received.length > 0);
    return { messageId: message.messageId, received, disconnects };
  } finally {
    await service.close();
    await client.close();
  }
});
