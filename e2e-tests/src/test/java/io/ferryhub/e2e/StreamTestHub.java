package io.ferryhub.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.tls.ClientTls;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.service.auth.SharedAccessPolicy;
import io.netty.handler.ssl.SslContext;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A real hub on ephemeral ports for end-to-end stream tests, with what the tests need around it: a JDK HttpClient
 * that trusts the hub's CA, identities created through the REST API, connection strings.
 */
final class StreamTestHub implements AutoCloseable {
    static final String API = "?api-version=2021-04-12";

    final HubServer hub;
    final HttpClient http;
    final SSLContext jdkTls;

    StreamTestHub(Path dataDir) throws Exception {
        this(HubConfig.ephemeral(dataDir).withHostName("localhost"));
    }

    StreamTestHub(HubConfig config) throws Exception {
        this(config, Clock.systemUTC());
    }

    /** @param streamClock what the hub's streams judge policy hours and token expiry on */
    StreamTestHub(HubConfig config, Clock streamClock) throws Exception {
        hub = HubServer.start(config, streamClock);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(hub.caCertificatePath())) {
            trust.setCertificateEntry("hub-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        jdkTls = SSLContext.getInstance("TLS");
        jdkTls.init(null, tmf.getTrustManagers(), null);
        http = HttpClient.newBuilder().sslContext(jdkTls).connectTimeout(Duration.ofSeconds(10)).build();
    }

    String host() {
        return hub.hostName();
    }

    int httpsPort() {
        return hub.httpsPort();
    }

    int mqttPort() {
        return hub.mqttPort();
    }

    Path ca() {
        return hub.caCertificatePath();
    }

    SslContext nettyTls() {
        return ClientTls.trusting(ca());
    }

    URI https(String pathAndQuery) {
        return URI.create("https://" + host() + ":" + httpsPort() + pathAndQuery);
    }

    ConnectionString policy(String name) {
        SharedAccessPolicy p = hub.policies().find(name).orElseThrow();
        return ConnectionString.forPolicy(host(), p.keyName(), p.primaryKey());
    }

    String serviceToken(String policyName) {
        return policy(policyName).sasToken(Instant.now().plusSeconds(3600));
    }

    HttpResponse<String> owner(String method, String path, String body, Map<String, String> headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(https(path + (path.contains("?") ? "" : API)))
                .timeout(Duration.ofSeconds(90))
                .header("Authorization", serviceToken("iothubowner"))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Registers a device and returns its connection string. */
    ConnectionString createDevice(String deviceId) throws Exception {
        HttpResponse<String> created = owner("PUT", "/devices/" + deviceId, "{\"deviceId\":\"" + deviceId + "\"}",
                Map.of());
        if (created.statusCode() != 200) {
            throw new IllegalStateException("creating " + deviceId + ": " + created.statusCode() + " "
                    + created.body());
        }
        String key = Json.parse(created.body()).at("/authentication/symmetricKey/primaryKey").asText();
        return ConnectionString.forDevice(host(), deviceId, null, key);
    }

    ConnectionString createModule(String deviceId, String moduleId) throws Exception {
        HttpResponse<String> created = owner("PUT", "/devices/" + deviceId + "/modules/" + moduleId,
                "{\"deviceId\":\"" + deviceId + "\",\"moduleId\":\"" + moduleId + "\"}", Map.of());
        if (created.statusCode() != 200) {
            throw new IllegalStateException("creating " + moduleId + ": " + created.statusCode() + " "
                    + created.body());
        }
        String key = Json.parse(created.body()).at("/authentication/symmetricKey/primaryKey").asText();
        return ConnectionString.forDevice(host(), deviceId, moduleId, key);
    }

    void disableDevice(String deviceId) throws Exception {
        HttpResponse<String> got = owner("GET", "/devices/" + deviceId, null, Map.of());
        ObjectNode device = (ObjectNode) Json.parse(got.body());
        device.put("status", "disabled");
        HttpResponse<String> put = owner("PUT", "/devices/" + deviceId, Json.toString(device),
                Map.of("If-Match", "*"));
        if (put.statusCode() != 200) {
            throw new IllegalStateException("disabling " + deviceId + ": " + put.statusCode() + " " + put.body());
        }
    }

    /** {@code POST /twins/{id}/streams/{name}} with the JDK HttpClient, as the SDKs send it. */
    HttpResponse<String> initiate(String path, String authorization, String connectTimeout, String responseTimeout)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(https(path + "?api-version=2020-09-30"))
                .timeout(Duration.ofSeconds(90))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (connectTimeout != null) {
            request.header("iothub-streaming-connect-timeout-in-seconds", connectTimeout);
        }
        if (responseTimeout != null) {
            request.header("iothub-streaming-response-timeout-in-seconds", responseTimeout);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The bodies of the hub's stream audit events about a device, from every partition of the event stream. */
    List<JsonNode> streamAuditEvents(String deviceId, String opType) throws Exception {
        List<JsonNode> found = new ArrayList<>();
        JsonNode partitions = Json.parse(owner("GET", "/messages/events/partitions", null, Map.of()).body());
        for (JsonNode partition : partitions) {
            JsonNode read = Json.parse(owner("GET", "/messages/events/partitions/"
                    + partition.path("partitionId").asText() + "?from=earliest&max=1000&waitSeconds=0&"
                    + API.substring(1), null, Map.of()).body());
            for (JsonNode event : read.path("events")) {
                if ("deviceStreamEvents".equals(event.at("/systemProperties/iothub-message-source").asText())
                        && opType.equals(event.at("/properties/opType").asText())
                        && deviceId.equals(event.at("/properties/deviceId").asText())) {
                    found.add(Json.parse(Base64.getDecoder().decode(event.path("body").asText())));
                }
            }
        }
        return found;
    }

    /** The inner IoT Hub error code of an error response body. */
    static int errorCode(HttpResponse<String> response) {
        JsonNode outer = Json.parse(response.body());
        return Json.parse(outer.get("Message").asText()).get("errorCode").asInt();
    }

    @Override
    public void close() {
        hub.close();
    }
}
