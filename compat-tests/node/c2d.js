'use strict';
// The service client (azure-iothub: AMQP, or AMQP over WebSockets when the device uses WebSockets too) sends a
// cloud-to-device message; the device receives and completes it (HTTP devices poll for it). Prints what it received.
const { Client: ServiceClient, AmqpWs: ServiceAmqpWs } = require('azure-iothub');
const { Message } = require('azure-iot-common');
const { createDevice, waitFor, run } = require('./lib/common');

run(async ({ transport, deviceId, serviceConnectionString }) => {
  const { client } = await createDevice(serviceConnectionString, deviceId, transport);
  const received = [];
  client.on('message', (msg) => {
    received.push({
      data: msg.data.toString('utf8'),
      messageId: msg.messageId,
      correlationId: msg.correlationId,
      contentType: msg.contentType || null,
      contentEncoding: msg.contentEncoding || null,
      properties: Object.fromEntries(msg.properties.propertyList.map((p) => [p.key, p.value])),
    });
    client.complete(msg, () => {});
  });
  if (transport === 'http') {
    await client.setOptions({ http: { receivePolicy: { interval: 1 } } }); // poll every second
  }
  await client.open();
  const service = ServiceClient.fromConnectionString(serviceConnectionString,
    transport.endsWith('-ws') ? ServiceAmqpWs : undefined);
  try {
    await service.open();
    const message = new Message('switch on');
    message.messageId = 'c2d-' + deviceId;
    message.correlationId = 'corr-7';
    message.contentType = 'text/plain';
    message.contentEncoding = 'utf-8';
    message.properties.add('color', 'blue');
    await service.send(deviceId, message);
    await waitFor('the cloud-to-device message', () => received.length > 0);
    return { received };
  } finally {
    await service.close();
    await client.close();
  }
});
