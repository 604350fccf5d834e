package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.client.http.HttpResult;
import io.ferryhub.client.http.HubHttpClient;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.sas.PercentEncoding;
import io.ferryhub.common.tls.ClientTls;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * The hub's REST API as the CLI uses it, with the owner's credentials. Where to find the hub and the credentials:
 * {@code --connection-string} (or {@code IOTHUB_CONNECTION_STRING}), else the data directory a local
 * {@code iothub start} wrote ({@code --data-dir}, default {@code ./data}); its CA file and URL likewise.
 */
final class HubApi implements AutoCloseable {
    static final Set<String> OPTIONS = Set.of("connection-string", "data-dir", "ca", "url");

    /** {@link #OPTIONS} and a command's own valued options. */
    static Set<String> optionsWith(String... own) {
        Set<String> all = new HashSet<>(OPTIONS);
        all.addAll(Set.of(own));
        return Set.copyOf(all);
    }
    static final String API_VERSION = "2021-04-12";
    /** Written by {@code iothub start}: the URL its REST API answers on, for the other commands. */
    static final String URL_FILE = "hub.url";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final ConnectionString credentials;
    private final HubHttpClient http;
    private final URI url;

    private HubApi(ConnectionString credentials, URI url, Path ca) {
        this.credentials = credentials;
        this.url = url;
        this.http = new HubHttpClient(url, ClientTls.trusting(ca));
    }

    static HubApi connect(Args args) {
        Path dataDir = Path.of(args.option("data-dir") == null ? "data" : args.option("data-dir"));
        String text = args.option("connection-string");
        if (text == null) {
            text = System.getenv("IOTHUB_CONNECTION_STRING");
        }
        if (text == null) {
            Path file = dataDir.resolve("iothubowner.connection-string");
            if (!Files.isReadable(file)) {
                throw new CliException("no credentials: pass --connection-string, set IOTHUB_CONNECTION_STRING, or "
                        + "run where a local hub's data directory is (--data-dir, default ./data)");
            }
            text = read(file).trim();
        }
        ConnectionString cs;
        try {
            cs = ConnectionString.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CliException("bad connection string: " + e.getMessage());
        }
        if (cs.isDevice() || cs.sharedAccessKeyName().isEmpty()) {
            throw new CliException("the connection string must be a hub policy's (SharedAccessKeyName=...), "
                    + "not a device's");
        }
        try {
            cs.sasToken(Instant.now().plus(TIMEOUT)); // signing is where a key that is not base64 shows
        } catch (IllegalArgumentException e) {
            throw new CliException("bad connection string: its SharedAccessKey is not base64 (" + e.getMessage()
                    + "); copy the whole string again, e.g. from 'scripts/iothub policy list' on the hub's machine");
        }
        Path ca = args.option("ca") != null ? Path.of(args.option("ca"))
                : Files.isReadable(dataDir.resolve("ca.pem")) ? dataDir.resolve("ca.pem") : null;
        String url = args.option("url");
        if (url == null && Files.isReadable(dataDir.resolve(URL_FILE))) {
            url = read(dataDir.resolve(URL_FILE)).trim();
        }
        if (url == null) {
            url = "https://" + cs.hostName();
        }
        try {
            return new HubApi(cs, URI.create(url), ca);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new CliException("cannot read " + file + ": " + e.getMessage());
        }
    }

    String hostName() {
        return credentials.hostName();
    }

    static String segment(String id) {
        return PercentEncoding.encode(id);
    }

    JsonNode get(String path) {
        return call("GET", path, null, null, Map.of()).json();
    }

    HttpResult call(String method, String path, JsonNode body, String ifMatch, Map<String, String> extraHeaders) {
        Map<String, String> headers = new HashMap<>(extraHeaders);
        if (body != null) {
            headers.put("Content-Type", "application/json; charset=utf-8");
        }
        if (ifMatch != null) {
            headers.put("If-Match", ifMatch);
        }
        return send(method, path, body == null ? null : Json.toBytes(body), headers);
    }

    /** A call with a raw body (or none) and its own headers; the owner's token is added. */
    HttpResult send(String method, String path, byte[] body, Map<String, String> extraHeaders) {
        Map<String, String> headers = new HashMap<>(extraHeaders);
        headers.put("Authorization", credentials.sasToken(Instant.now().plus(Duration.ofHours(1))));
        String target = path + (path.contains("?") ? "&" : "?") + "api-version=" + API_VERSION;
        HttpResult result;
        try {
            result = http.send(method, target, headers, body, TIMEOUT).get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof TimeoutException) {
                throw new CliException("the hub at " + url + " did not answer within " + TIMEOUT.toSeconds() + " s");
            }
            throw new CliException("cannot reach the hub at " + url + ": " + cause.getMessage()
                    + " (is it running? 'iothub start')");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
        if (!result.isSuccess()) {
            throw new CliException(result.errorReason());
        }
        return result;
    }

    @Override
    public void close() {
        http.close();
    }
}
