'use strict';
// The device abandons a cloud-to-device message once (it comes back), rejects one and completes the rest; the
// service asked for full acknowledgement and reads the feedback with azure-iothub's feedback receiver. AMQP and
// HTTP only: the Node SDK's MQTT transport cannot abandon or reject.
const { Client: ServiceClient } = require('azure-iothub');
const { Message } = require('azure-iot-common');
const { createDevice, waitFor, run } = require('./lib/common');

run(async ({ transport, deviceId, serviceConnectionString }) => {
  const { client } = await createDevice(serviceConnectionString, deviceId, transport);
  const deliveries = [];
  client.on('message', (msg) => {
    deliveries.push(msg.messageId);
    const times = deliveries.filter((id) => id === msg.messageId).length;
    const settle = msg.messageId.startsWith('reject') ? 'reject'
      : msg.messageId.startsWith('abandon') && times === 1 ? 'abandon' : 'complete';
    client[settle](msg, () => {});
  });
  if (transport === 'http') {
    await client.setOptions({ http: { receivePolicy: { interval: 1 } } });
  }
  await client.open();
  const service = ServiceClient.fromConnectionString(serviceConnectionString);
  try {
    await service.open();
    const feedback = [];
    const receiver = await new Promise((resolve, reject) =>
      service.getFeedbackReceiver((err, r) => (err ? reject(err) : resolve(r))));
    receiver.on('message', (msg) => {
      for (const record of JSON.parse(msg.data.toString('utf8'))) {
        if (record.deviceId === deviceId) {
          feedback.push({ originalMessageId: record.originalMessageId, statusCode: record.statusCode });
        }
      }
      receiver.complete(msg, () => {});
    });
    for (const id of ['abandon-' + deviceId, 'reject-' + deviceId, 'ok-' + deviceId]) {
      const message = new Message(id);
      message.messageId = id;
      message.ack = 'full';
      await service.send(deviceId, message);
    }
    await waitFor('feedback on the three messages', () => feedback.length >= 3);
    return { deliveries, feedback };
  } finally {
    await service.close();
    await client.close();
  }
});
