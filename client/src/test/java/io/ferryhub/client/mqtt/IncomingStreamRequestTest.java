package io.ferryhub.client.mqtt;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IncomingStreamRequestTest {
    @Test
    void parsesIotHubsOwnExample() {
        // The request topic from a real IoT Hub trace (token shortened).
        IncomingStreamRequest request = IncomingStreamRequest.parse("$iothub/streams/POST/TestStream/?$rid=1"
                + "&$url=wss%3A%2F%2Feastus2euap.eastus2euap-001.streams.azure-devices.net%3A443%2Fbridges%2F"
                + "IoTHubDeviceStreams%2FMyDevice%2Fa58c&$auth=eyJ0eXAi.eyJleHAi.c2ln&$ip=0.0.0.0").orElseThrow();
        assertEquals("TestStream", request.streamName());
        assertEquals("1", request.requestId());
        assertEquals("wss://eastus2euap.eastus2euap-001.streams.azure-devices.net:443/bridges/IoTHubDeviceStreams/"
                + "MyDevice/a58c", request.url());
        assertEquals("eyJ0eXAi.eyJleHAi.c2ln", request.authToken());
        assertEquals("$iothub/streams/res/200/?$rid=1", request.responseTopic(true));
        assertEquals("$iothub/streams/res/400/?$rid=1", request.responseTopic(false));
    }

    @Test
    void refusesTopicsMissingAField() {
        assertTrue(IncomingStreamRequest.parse("$iothub/streams/POST/ssh/?$rid=1&$url=wss%3A%2F%2Fh").isEmpty());
        assertTrue(IncomingStreamRequest.parse("$iothub/streams/POST/ssh/?$url=x&$auth=y").isEmpty());
        assertTrue(IncomingStreamRequest.parse("$iothub/streams/POST/?$rid=1&$url=x&$auth=y").isEmpty());
        assertTrue(IncomingStreamRequest.parse("devices/d/messages/devicebound/x").isEmpty());
        assertTrue(IncomingStreamRequest.parse("$iothub/streams/POST/ssh/?$rid=1&$url=%G1&$auth=y").isEmpty());
    }
}
