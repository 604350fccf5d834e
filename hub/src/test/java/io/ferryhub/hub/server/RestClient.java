package io.ferryhub.hub.server;

import io.ferryhub.hub.HubTestSupport;
import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** The JDK's HTTP client pointed at a test hub, trusting only the hub's generated CA. */
final class RestClient {
    record Reply(int status, java.net.http.HttpHeaders headers, String body) {
        JsonNode json() {
            return Json.parse(body);
        }

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        /** The numeric code inside IoT Hub's error body. */
        int errorCode() {
            return Json.parse(json().get("Message").asText()).get("errorCode").asInt();
        }
    }

    private final HttpClient http;
    private final URI base;
    private final HubServer hub;

    RestClient(HubServer hub) throws Exception {
        this(hub, hub.caCertificatePath());
    }

    /** @param trusted the CA (or self-signed certificate) the hub's certificate chains to */
    RestClient(HubServer hub, Path trusted) throws Exception {
        this.hub = hub;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(HubTestSupport.trusting(trusted))
                .connectTimeout(Duration.ofSeconds(10))
                .build();
        this.base = URI.create("https://localhost:" + hub.httpsPort());
    }

    /** A token of the iothubowner policy, as the service SDKs make it. */
    String ownerToken() {
        return HubTestSupport.ownerToken(hub);
    }

    Reply send(String method, String pathAndQuery, String body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(pathAndQuery))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null && headers.keySet().stream().noneMatch("Content-Type"::equalsIgnoreCase)) {
            b.header("Content-Type", "application/json; charset=utf-8");
        }
        headers.forEach(b::header);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Reply(r.statusCode(), r.headers(), r.body());
    }

    /** As the owner, with an api-version like the SDKs send. */
    Reply owner(String method, String path, String body, Map<String, String> extraHeaders) throws Exception {
        Map<String, String> headers = new java.util.HashMap<>(extraHeaders);
        headers.put("Authorization", ownerToken());
        return send(method, path + (path.contains("?") ? "&" : "?") + "api-version=2021-04-12", body, headers);
    }

    Reply owner(String method, String path, String body) throws Exception {
        return owner(method, path, body, Map.of());
    }
}
