'use strict';
// The device sends one telemetry message with a message id, content type and encoding and an application property;
// the Java test reads it back from the hub's event stream.
const { Message } = require('azure-iot-device');
const { createDevice, run } = require('./lib/common');

run(async ({ transport, deviceId, serviceConnectionString }) => {
  const { client } = await createDevice(serviceConnectionString, deviceId, transport);
  await client.open();
  try {
    const message = new Message(JSON.stringify({ temperature: 21.5, transport }));
    message.messageId = 'mid-' + deviceId;
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    message.properties.add('alert', 'no');
    await client.sendEvent(message); // resolves once the hub acknowledged it
    return { messageId: message.messageId };
  } finally {
    await client.close();
  }
});
