package io.ferryhub.bench.streams;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.report.LatencyRecorder;
import io.ferryhub.bench.report.LatencySummary;
import io.ferryhub.client.http.HubHttpClient;
import io.ferryhub.client.stream.ServiceStreamClient;
import io.ferryhub.client.stream.StreamConnector;
import io.ferryhub.common.relay.HoldingHandler;
import io.ferryhub.common.sas.ConnectionString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.ssl.SslContext;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Stream set-up as IoT Hub's own clients do it, phase by phase: {@code POST /twins/{id}/streams/{name}} until the
 * hub's answer (the device accepted over MQTT), then the TLS WebSocket to the gateway with the bearer token, then a
 * byte sent through the stream until it comes back from the target's echo. Uses the hub's client library, in the
 * benchmark's JVM, instead of service-proxy, so each phase can be timed.
 */
final class PostToFirstByte implements AutoCloseable {
    private final HubHttpClient http;
    private final ServiceStreamClient initiator;
    private final StreamConnector connector;
    private final String deviceId;
    private final String streamName;
    private final LatencyRecorder post;
    private final LatencyRecorder webSocket;
    private final LatencyRecorder firstByte;
    private final LatencyRecorder total;

    PostToFirstByte(EventLoopGroup group, SslContext tls, URI hub, ConnectionString service, String deviceId,
                    String streamName, int samples) {
        this.http = new HubHttpClient(hub, tls, group);
        this.initiator = new ServiceStreamClient(http, service);
        this.connector = new StreamConnector(group, tls);
        this.deviceId = deviceId;
        this.streamName = streamName;
        this.post = new LatencyRecorder(samples);
        this.webSocket = new LatencyRecorder(samples);
        this.firstByte = new LatencyRecorder(samples);
        this.total = new LatencyRecorder(samples);
    }

    /** One stream set up and closed; timed when {@code record} (false while warming up). */
    void setUpOnce(boolean record) throws Exception {
        long start = System.nanoTime();
        ServiceStreamClient.Initiation initiation = initiator.initiate(deviceId, null, streamName, Duration.ZERO,
                Duration.ofSeconds(30)).get(60, TimeUnit.SECONDS);
        if (!initiation.accepted()) {
            throw new IOException("the device rejected the stream");
        }
        long posted = System.nanoTime();
        Channel ws = connector.connect(initiation.url(), initiation.authToken()).get(60, TimeUnit.SECONDS);
        long connected = System.nanoTime();
        CompletableFuture<Long> echoed = new CompletableFuture<>();
        ws.pipeline().replace(HoldingHandler.NAME, "first-byte", new SimpleChannelInboundHandler<BinaryWebSocketFrame>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, BinaryWebSocketFrame frame) {
                if (frame.content().isReadable()) {
                    echoed.complete(System.nanoTime());
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                echoed.completeExceptionally(new IOException("stream closed before the first byte came back"));
            }
        });
        ByteBuf probe = Unpooled.wrappedBuffer(new byte[]{TargetServer.ECHO, 1});
        ws.writeAndFlush(new BinaryWebSocketFrame(probe));
        try {
            long back = echoed.get(60, TimeUnit.SECONDS);
            if (!record) {
                return;
            }
            post.record(posted - start);
            webSocket.record(connected - posted);
            firstByte.record(back - connected);
            total.record(back - start);
        } finally {
            ws.close();
        }
    }

    void report(ObjectNode result) {
        result.set("postToFirstByteMs", total.summary().toJson());
        ObjectNode phases = result.putObject("postToFirstBytePhasesMs");
        phases.set("post", post.summary().toJson());
        phases.set("webSocketToGateway", webSocket.summary().toJson());
        phases.set("firstByteThroughStream", firstByte.summary().toJson());
    }

    /** POST to first byte over the recorded set-ups. */
    LatencySummary totalSummary() {
        return total.summary();
    }

    String summary() {
        return "POST to first byte " + total.summary() + " (POST " + post.summary() + "; WebSocket "
                + webSocket.summary() + "; first byte " + firstByte.summary() + ")";
    }

    @Override
    public void close() {
        http.close();
    }
}
