'use strict';
// What every scenario script shares: the device transports by name, a device made through the Registry, a
// deadline, and the one JSON line a script prints for the Java test to assert on.
//
// Each script is run as `node <script>.js <transport> <deviceId>` with IOTHUB_CONNECTION_STRING (a service policy's
// connection string) and NODE_EXTRA_CA_CERTS (the hub's data/ca.pem) in its environment.

const { Client } = require('azure-iot-device');
const { Registry } = require('azure-iothub');

const TRANSPORTS = {
  mqtt: () => require('azure-iot-device-mqtt').Mqtt,
  'mqtt-ws': () => require('azure-iot-device-mqtt').MqttWs,
  amqp: () => require('azure-iot-device-amqp').Amqp,
  'amqp-ws': () => require('azure-iot-device-amqp').AmqpWs,
  http: () => require('azure-iot-device-http').Http,
};

function args() {
  const [transport, deviceId] = process.argv.slice(2);
  if (!TRANSPORTS[transport] || !deviceId) {
    throw new Error('usage: <script> ' + Object.keys(TRANSPORTS).join('|') + ' <deviceId>');
  }
  const serviceConnectionString = process.env.IOTHUB_CONNECTION_STRING;
  if (!serviceConnectionString) {
    throw new Error('IOTHUB_CONNECTION_STRING is not set');
  }
  return { transport, deviceId, serviceConnectionString };
}

/** Creates the device with the service SDK's Registry; answers the device client, not yet open. */
async function createDevice(serviceConnectionString, deviceId, transport) {
  const registry = Registry.fromConnectionString(serviceConnectionString);
  const created = await registry.create({ deviceId });
  const hostName = /HostName=([^;]+)/.exec(serviceConnectionString)[1];
  const key = created.responseBody.authentication.symmetricKey.primaryKey;
  const deviceConnectionString = `HostName=${hostName};DeviceId=${deviceId};SharedAccessKey=${key}`;
  return { registry, client: Client.fromConnectionString(deviceConnectionString, TRANSPORTS[transport]()) };
}

/** Polls `check` (sync or async) until it answers a truthy value, or fails after `seconds`. */
async function waitFor(what, check, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${seconds}s waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Runs a scenario: prints {"ok":true,...result} or {"ok":false,"error":...} as the last line of stdout and exits,
 * whatever handles the SDKs leave open. A scenario that has not finished in `seconds` fails.
 */
function run(scenario, seconds = 90) {
  const timer = setTimeout(() => finish({ ok: false, error: `the scenario did not finish in ${seconds}s` }, 2),
    seconds * 1000);
  Promise.resolve()
    .then(() => scenario(args()))
    .then((result) => finish({ ok: true, ...result }, 0))
    .catch((err) => finish({ ok: false, error: String((err && err.stack) || err) }, 1))
    .finally(() => clearTimeout(timer));
}

function finish(result, code) {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(code));
}

module.exports = { TRANSPORTS, createDevice, waitFor, run };
