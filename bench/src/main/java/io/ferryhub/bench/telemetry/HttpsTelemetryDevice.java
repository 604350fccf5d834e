package io.ferryhub.bench.telemetry;

import io.ferryhub.bench.mqtt.TelemetryPayload;
import io.ferryhub.bench.mqtt.TelemetryStats;
import io.ferryhub.client.http.HubHttpClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One simulated device over IoT Hub's HTTPS device API: {@code POST /devices/{id}/messages/events} with its SAS
 * token, on keep-alive TLS connections of its own. HTTP/1.1 carries one request per connection at a time, so a
 * window of W messages in flight takes W connections. A message counts as acknowledged on the hub's 204, which it
 * sends once the message is durable.
 */
final class HttpsTelemetryDevice implements TelemetryPublisher {
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    private final HubHttpClient http;
    private final String path;
    private final Map<String, String> headers;
    private final AtomicInteger sequence = new AtomicInteger();
    private volatile boolean publishing;

    HttpsTelemetryDevice(EventLoopGroup group, SslContext tls, String hubHost, int httpsPort, String deviceId,
                         String token) {
        this.http = new HubHttpClient(URI.create("https://" + hubHost + ":" + httpsPort), tls, group);
        this.path = "/devices/" + deviceId + "/messages/events?api-version=2020-09-30";
        this.headers = Map.of("Authorization", token, "Content-Type", "application/octet-stream",
                "iothub-messageid", deviceId);
    }

    @Override
    public void startPublishing(TelemetryStats stats, int payloadBytes, int window) {
        publishing = true;
        for (int lane = 0; lane < window; lane++) {
            post(stats, payloadBytes);
        }
    }

    private void post(TelemetryStats stats, int payloadBytes) {
        if (!publishing) {
            return;
        }
        long sent = System.nanoTime();
        ByteBuf payload = TelemetryPayload.create(ByteBufAllocator.DEFAULT, payloadBytes, sent, 0,
                sequence.incrementAndGet());
        byte[] body = ByteBufUtil.getBytes(payload);
        payload.release();
        stats.published.increment();
        http.send("POST", path, headers, body, REQUEST_TIMEOUT).whenComplete((result, error) -> {
            if (error == null && result.status() == 204) {
                stats.onAck(sent, System.nanoTime());
            }
            post(stats, payloadBytes);
        });
    }

    @Override
    public void stopPublishing() {
        publishing = false;
    }

    @Override
    public void close() {
        publishing = false;
        http.close();
    }
}
