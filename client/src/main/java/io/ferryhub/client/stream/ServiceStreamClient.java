package io.ferryhub.client.stream;

import io.ferryhub.client.http.HttpResult;
import io.ferryhub.client.http.HubHttpClient;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.sas.PercentEncoding;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** The back-end side of stream initiation: IoT Hub's {@code POST /twins/{id}/streams/{name}}. */
public final class ServiceStreamClient {
    private static final String API_VERSION = "2020-09-30";
    private static final Duration TOKEN_LIFETIME = Duration.ofHours(1);

    private final HubHttpClient http;
    private final ConnectionString service;

    /** What the hub answered: the URL and token are null when the device rejected the stream. */
    public record Initiation(boolean accepted, URI url, String authToken) {
    }

    /** Thrown (in the future) when the hub answers with an error: the reason has IoT Hub's error code. */
    public static final class InitiationFailed extends IOException {
        private final int status;

        public InitiationFailed(int status, String reason) {
            super(reason);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    public ServiceStreamClient(HubHttpClient http, ConnectionString service) {
        if (service.isDevice()) {
            throw new IllegalArgumentException("a service connection string is needed (it names a device)");
        }
        this.http = http;
        this.service = service;
    }

    /** @param moduleId null for a device stream */
    public CompletableFuture<Initiation> initiate(String deviceId, String moduleId, String streamName,
                                                 Duration connectTimeout, Duration responseTimeout) {
        String path = "/twins/" + PercentEncoding.encode(deviceId)
                + (moduleId == null ? "" : "/modules/" + PercentEncoding.encode(moduleId))
                + "/streams/" + PercentEncoding.encode(streamName) + "?api-version=" + API_VERSION;
        Map<String, String> headers = Map.of(
                "Authorization", service.sasToken(Instant.now().plus(TOKEN_LIFETIME)),
                "iothub-streaming-connect-timeout-in-seconds", seconds(connectTimeout),
                "iothub-streaming-response-timeout-in-seconds", seconds(responseTimeout));
        Duration deadline = connectTimeout.plus(responseTimeout).plusSeconds(10);
        return http.send("POST", path, headers, null, deadline).thenCompose(ServiceStreamClient::parse);
    }

    private static CompletableFuture<Initiation> parse(HttpResult result) {
        if (result.status() != 200) {
            return CompletableFuture.failedFuture(new InitiationFailed(result.status(), result.errorReason()));
        }
        boolean accepted = "True".equals(result.header("iothub-streaming-is-accepted"));
        if (!accepted) {
            return CompletableFuture.completedFuture(new Initiation(false, null, null));
        }
        String url = result.header("iothub-streaming-url");
        String token = result.header("iothub-streaming-auth-token");
        if (url == null || token == null) {
            return CompletableFuture.failedFuture(new InitiationFailed(result.status(),
                    "the hub accepted the stream but sent no URL or token"));
        }
        return CompletableFuture.completedFuture(new Initiation(true, URI.create(url), token));
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? Long.toString(d.toSeconds()) : Double.toString(d.toMillis() / 1000.0);
    }
}
