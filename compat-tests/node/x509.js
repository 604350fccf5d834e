'use strict';
// A self-signed X.509 device (connection string x509=true, its certificate and key in the client's options),
// registered with azure-iothub by its certificate's SHA-256 thumbprint, sends telemetry. The certificate is made with
// the openssl command line: Node.js cannot issue certificates by itself.
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Client, Message } = require('azure-iot-device');
const { Registry } = require('azure-iothub');
const { TRANSPORTS, run } = require('./lib/common');

function selfSigned(commonName) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x509-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=' + commonName], { stdio: 'pipe' });
    return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

run(async ({ transport, deviceId, serviceConnectionString }) => {
  const { key, cert } = selfSigned(deviceId);
  const thumbprint = new crypto.X509Certificate(cert).fingerprint256.replace(/:/g, '');
  const registry = Registry.fromConnectionString(serviceConnectionString);
  await registry.create({
    deviceId,
    authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: thumbprint, secondaryThumbprint: thumbprint } },
  });
  const hostName = /HostName=([^;]+)/.exec(serviceConnectionString)[1];
  const client = Client.fromConnectionString(`HostName=${hostName};DeviceId=${deviceId};x509=true`,
    TRANSPORTS[transport]());
  // The SDK's HTTP transport answers setOptions only when it carries a receive policy: without one the promise
  // never settles (azure-iot-device-http 1.14.4), so the HTTP client gets the default one along.
  await client.setOptions(transport === 'http' ? { cert, key, http: { receivePolicy: { interval: 1 } } } : { cert, key });
  await client.open();
  try {
    const message = new Message(JSON.stringify({ x509: true }));
    message.messageId = 'mid-' + deviceId;
    await client.sendEvent(message);
    return { messageId: message.messageId, thumbprint };
  } finally {
    await client.close();
  }
});
