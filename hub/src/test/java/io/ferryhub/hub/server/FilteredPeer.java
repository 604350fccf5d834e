package io.ferryhub.hub.server;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.testsupport.BoundClient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.net.ssl.SSLSocket;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link BoundClient}s to the hub (trusting its CA), with just enough of its protocols to prove a connection works:
 * MQTT CONNECT/CONNACK and PING, the AMQP protocol header.
 */
final class FilteredPeer {
    private FilteredPeer() {
    }

    static SSLSocket tls(Path caPem, String local, String server, int port) throws Exception {
        return BoundClient.tls(HubTestSupport.trusting(caPem), local, server, port);
    }

    static void assertRefusedBeforeTls(Path caPem, String local, String server, int port) throws Exception {
        BoundClient.assertRefusedBeforeTls(HubTestSupport.trusting(caPem), local, server, port);
    }

    /** MQTT 3.1.1 CONNECT with a SAS token; returns the CONNACK's return code (0 accepted). */
    static int mqttConnect(Socket socket, HubServer hub, String deviceId, String key) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, (byte) 0xC2, 0, 60});
        writeString(body, deviceId);
        writeString(body, hub.hostName() + "/" + deviceId + "/?api-version=2021-04-12");
        writeString(body, HubTestSupport.deviceToken(hub, deviceId, key));
        OutputStream out = socket.getOutputStream();
        out.write(0x10);
        int length = body.size();
        do {
            int digit = length % 128;
            length /= 128;
            out.write(length > 0 ? digit | 0x80 : digit);
        } while (length > 0);
        out.write(body.toByteArray());
        out.flush();
        byte[] connack = socket.getInputStream().readNBytes(4);
        assertEquals(4, connack.length, "no CONNACK");
        assertEquals(0x20, connack[0] & 0xff);
        return connack[3];
    }

    /** PINGREQ, then the PINGRESP. */
    static void mqttPing(Socket socket) throws IOException {
        socket.getOutputStream().write(new byte[] {(byte) 0xC0, 0});
        socket.getOutputStream().flush();
        byte[] pong = socket.getInputStream().readNBytes(2);
        assertEquals(0xD0, pong.length == 2 ? pong[0] & 0xff : -1, "no PINGRESP");
    }

    /** Sends the AMQP SASL protocol header and returns the 8 bytes the hub answers with. */
    static byte[] amqpHeader(Socket socket) throws IOException {
        socket.getOutputStream().write(new byte[] {'A', 'M', 'Q', 'P', 3, 1, 0, 0});
        socket.getOutputStream().flush();
        return socket.getInputStream().readNBytes(8);
    }

    private static void writeString(ByteArrayOutputStream out, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.write(bytes.length >> 8);
        out.write(bytes.length & 0xff);
        out.writeBytes(bytes);
    }
}
