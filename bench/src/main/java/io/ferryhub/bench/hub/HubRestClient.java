package io.ferryhub.bench.hub;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.client.http.HttpResult;
import io.ferryhub.client.http.HubHttpClient;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.tls.ClientTls;
import io.netty.channel.EventLoopGroup;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The hub's REST API as a back-end uses it, with an iothubowner SAS token (renewed long before it expires): device
 * registration and the event stream read path.
 */
public final class HubRestClient implements AutoCloseable {
    public static final String API_VERSION = "api-version=2021-04-12";
    private static final Duration TOKEN_LIFETIME = Duration.ofHours(2);
    private static final int MAX_IDLE_CONNECTIONS = 512;

    private final HubHttpClient http;
    private final ConnectionString owner;
    private volatile String token;
    private volatile Instant tokenRenewal = Instant.MIN;

    public HubRestClient(HubProcess hub, EventLoopGroup group) throws IOException {
        this.owner = hub.ownerConnectionString();
        // benchmarks keep up to a few hundred requests in flight: their connections are reused, not reopened
        this.http = new HubHttpClient(URI.create("https://" + hub.hostName() + ":" + hub.httpsPort()),
                ClientTls.trusting(hub.caCertificate()), group, MAX_IDLE_CONNECTIONS, HubHttpClient.IDLE_TIMEOUT);
    }

    private String token() {
        if (Instant.now().isAfter(tokenRenewal)) {
            Instant expiry = Instant.now().plus(TOKEN_LIFETIME);
            token = owner.sasToken(expiry);
            tokenRenewal = expiry.minus(TOKEN_LIFETIME.dividedBy(2));
        }
        return token;
    }

    public CompletableFuture<HttpResult> send(String method, String pathAndQuery, byte[] body, Duration timeout) {
        Map<String, String> headers = body == null
                ? Map.of("Authorization", token())
                : Map.of("Authorization", token(), "Content-Type", "application/json; charset=utf-8");
        return http.send(method, pathAndQuery, headers, body, timeout);
    }

    /** A call with headers of its own (e.g. the query's paging headers) besides authorization and content type. */
    public CompletableFuture<HttpResult> send(String method, String pathAndQuery, byte[] body,
                                              Map<String, String> extraHeaders, Duration timeout) {
        Map<String, String> headers = new HashMap<>(extraHeaders);
        headers.put("Authorization", token());
        if (body != null) {
            headers.put("Content-Type", "application/json; charset=utf-8");
        }
        return http.send(method, pathAndQuery, headers, body, timeout);
    }

    /** {@code PUT /devices/{id}} of a new device with hub-generated SAS keys; completes with its primary key. */
    public CompletableFuture<String> createDevice(String deviceId) {
        ObjectNode body = Json.object();
        body.put("deviceId", deviceId);
        return send("PUT", "/devices/" + deviceId + "?" + API_VERSION, Json.toBytes(body), Duration.ofSeconds(60))
                .thenApply(result -> {
                    if (!result.isSuccess()) {
                        throw new IllegalStateException("PUT /devices/" + deviceId + ": " + result.errorReason());
                    }
                    String key = result.json().path("authentication").path("symmetricKey").path("primaryKey")
                            .asText(null);
                    if (key == null) {
                        throw new IllegalStateException("PUT /devices/" + deviceId + " answered no primary key");
                    }
                    return key;
                });
    }

    @Override
    public void close() {
        http.close();
    }
}
