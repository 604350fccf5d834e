package io.ferryhub.e2e;

import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.HubStartException;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing in the data directory is open to other local users: after every writer of the hub has written (registry,
 * twins and their change events, telemetry, C2D, a persistent session, a stream recording, keys and certificates),
 * every directory is rwx------ and every file rw-------, whatever the umask; another user (nobody) cannot read the
 * journal that holds every key. At start the hub tightens what an earlier version left open and refuses a data
 * directory that belongs to another user.
 */
class DataDirectoryPermissionsTest {
    private static final String DIR_MODE = "rwx------";
    private static final String FILE_MODE = "rw-------";

    /** Made traversable (like /var/lib), so only the data directory's own modes keep other users out. */
    @TempDir
    Path parent;

    @Test
    void everyWriterCreatesOwnerOnlyFilesAndAnotherUserCannotReadThem() throws Exception {
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dataDir = parent.resolve("data");
        try (StreamTestHub hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost"))) {
            hub.hub.recordStreams(true, Duration.ofDays(1), 1 << 30);
            recordAStream(hub);
            ConnectionString device = hub.createDevice("permissions-device");
            assertEquals(200, hub.owner("PATCH", "/twins/permissions-device",
                    "{\"properties\":{\"desired\":{\"colour\":\"red\"}}}", Map.of("If-Match", "*")).statusCode());
            int sent = hub.owner("POST", "/devices/permissions-device/messages/deviceBound", "queued while offline",
                    Map.of()).statusCode();
            assertTrue(sent / 100 == 2, "C2D message queued: " + sent);
            sendTelemetryInAPersistentSession(hub, device);
        }

        Map<String, String> modes = modesUnder(dataDir);
        for (String expected : List.of("", "registry", "registry/journal-00000001.log", "registry/LOCK",
                "stream-token.key", "ca-key.pem", "ca.pem", "server-key.pem", "iothubowner.connection-string",
                "eventhubs.connection-string", "c2d/queues", "recordings", "events/partition-0",
                "twin-change-events/partition-0")) {
            assertTrue(modes.containsKey(expected), expected + " written; found " + modes.keySet());
        }
        assertTrue(modes.keySet().stream().anyMatch(p -> p.startsWith("c2d/queues/") && p.endsWith(".queue.json")),
                "a C2D queue file: " + modes.keySet());
        assertTrue(modes.keySet().stream().anyMatch(p -> p.startsWith("recordings/") && !p.equals("recordings")),
                "a recording: " + modes.keySet());
        assertTrue(modes.keySet().stream().anyMatch(p -> p.startsWith("events/partition-") && p.endsWith(".events")),
                "a telemetry segment: " + modes.keySet());
        assertOwnerOnly(dataDir, modes);

        Path journal = dataDir.resolve("registry/journal-00000001.log");
        String ownerKey = Files.readString(dataDir.resolve(HubServer.OWNER_CONNECTION_STRING_FILE)).trim();
        ownerKey = ownerKey.substring(ownerKey.indexOf("SharedAccessKey=") + "SharedAccessKey=".length());
        assertTrue(new String(Files.readAllBytes(journal), StandardCharsets.ISO_8859_1).contains(ownerKey),
                "the journal holds iothubowner's key, which is what must stay private");
        NobodyReads nobody = NobodyReads.available(parent);
        if (nobody != null) {
            NobodyReads.Result read = nobody.cat(journal);
            assertNotEquals(0, read.exitCode(), "nobody read the journal");
            assertFalse(read.output().contains(ownerKey), "nobody saw iothubowner's key");
            assertTrue(read.output().contains("Permission denied"), read.output());
        }
    }

    @Test
    void theHubTightensWhatAnEarlierVersionLeftOpenAtStart() throws Exception {
        Path dataDir = parent.resolve("data");
        try (StreamTestHub hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost"))) {
            hub.createDevice("old-device");
        }
        // as the hub used to leave it with umask 022, and a directory copied in by hand
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dataDir.resolve("registry"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dataDir.resolve("registry/journal-00000001.log"),
                PosixFilePermissions.fromString("rw-r--r--"));
        Path copied = Files.createDirectories(dataDir.resolve("copied/deeper"));
        Files.setPosixFilePermissions(dataDir.resolve("copied"), PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(copied.resolve("notes.txt"), "secret");
        Files.setPosixFilePermissions(copied.resolve("notes.txt"), PosixFilePermissions.fromString("rw-rw-r--"));
        Files.setPosixFilePermissions(copied, PosixFilePermissions.fromString("rwxr-x---"));

        try (StreamTestHub hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost"))) {
            assertEquals(200, hub.owner("GET", "/devices/old-device", null, Map.of()).statusCode());
            Map<String, String> modes = modesUnder(dataDir);
            assertEquals("rwx------", modes.get("copied"));
            assertEquals("rw-------", modes.get("copied/deeper/notes.txt"));
            assertOwnerOnly(dataDir, modes);
        }
    }

    @Test
    void aDataDirectoryOfAnotherUserIsRefused() throws Exception {
        Path dataDir = Files.createDirectories(parent.resolve("data"));
        UserPrincipal nobody;
        try {
            nobody = dataDir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
            Files.setOwner(dataDir, nobody);
        } catch (IOException notRootOrNoNobody) {
            org.junit.jupiter.api.Assumptions.abort("cannot give a directory to nobody here: " + notRootOrNoNobody);
            return;
        }
        HubStartException refused = assertThrows(HubStartException.class,
                () -> HubServer.start(HubConfig.ephemeral(dataDir).withHostName("localhost")));
        assertTrue(refused.getMessage().contains("belongs to nobody"), refused.getMessage());
        try (Stream<Path> files = Files.list(dataDir)) {
            assertEquals(List.of(), files.toList(), "nothing was written into it");
        }
    }

    private static void recordAStream(StreamTestHub hub) throws Exception {
        try (Proxies proxies = new Proxies(hub, "recorded-device", "echo", Map.of(), true);
             Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
            socket.setSoTimeout(20_000);
            byte[] bytes = "plaintext of a session".getBytes(StandardCharsets.US_ASCII);
            socket.getOutputStream().write(bytes);
            assertArrayEquals(bytes, socket.getInputStream().readNBytes(bytes.length));
        }
        Path recordings = hub.hub.dataDir().resolve(HubServer.RECORDINGS_DIR);
        Proxies.await(() -> {
            try (Stream<Path> files = Files.list(recordings)) {
                return files.anyMatch(f -> f.toFile().length() > 0);
            } catch (IOException notYet) {
                return false;
            }
        }, "the stream was recorded");
    }

    /** QoS 1 telemetry (fsynced into the event log) and a C2D message, on a cleanSession=false connection. */
    private static void sendTelemetryInAPersistentSession(StreamTestHub hub, ConnectionString device)
            throws Exception {
        String clientId = device.deviceId().orElseThrow();
        MqttClient client = new MqttClient("ssl://" + device.hostName() + ":" + hub.mqttPort(), clientId,
                new MemoryPersistence());
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setCleanSession(false);
        options.setUserName(device.hostName() + "/" + clientId + "/?api-version=2021-04-12");
        options.setPassword(device.sasToken(Instant.now().plusSeconds(3600)).toCharArray());
        options.setSocketFactory(hub.jdkTls.getSocketFactory());
        CountDownLatch c2d = new CountDownLatch(1);
        try {
            client.connect(options);
            client.subscribe("devices/" + clientId + "/messages/devicebound/#", 1, (topic, message) -> c2d.countDown());
            client.publish("devices/" + clientId + "/messages/events/", "{\"t\":21}".getBytes(StandardCharsets.UTF_8),
                    1, false);
            assertTrue(c2d.await(30, TimeUnit.SECONDS), "the queued C2D message arrived");
            client.disconnect(5000);
        } finally {
            client.close();
        }
    }

    /** Each entry's mode by its path relative to {@code root} ("" for the root itself); links are not followed. */
    private static Map<String, String> modesUnder(Path root) throws IOException {
        Map<String, String> modes = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                modes.put(root.relativize(p).toString().replace(File.separatorChar, '/'),
                        PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)));
            }
        }
        return modes;
    }

    private static void assertOwnerOnly(Path root, Map<String, String> modes) {
        List<String> open = new ArrayList<>();
        modes.forEach((path, mode) -> {
            String expected = Files.isDirectory(root.resolve(path), LinkOption.NOFOLLOW_LINKS) ? DIR_MODE : FILE_MODE;
            if (!expected.equals(mode)) {
                open.add(path + " " + mode);
            }
        });
        assertEquals(List.of(), open, "entries not owner-only");
    }

    /** {@code runuser -u nobody -- cat FILE}, when this test runs as root and that works for a readable file. */
    record NobodyReads(Path control) {
        record Result(int exitCode, String output) {
        }

        static NobodyReads available(Path dir) throws Exception {
            if (!"root".equals(System.getProperty("user.name")) || !new File("/usr/sbin/runuser").canExecute()
                    && !new File("/sbin/runuser").canExecute()) {
                return null;
            }
            Path control = dir.resolve("readable-by-anyone.txt");
            Files.writeString(control, "anyone may read this");
            Files.setPosixFilePermissions(control, PosixFilePermissions.fromString("rw-r--r--"));
            NobodyReads nobody = new NobodyReads(control);
            Result read = nobody.cat(control);
            // the control proves that nobody exists, runuser works and the path is traversable
            return read.exitCode() == 0 && read.output().contains("anyone may read this") ? nobody : null;
        }

        Result cat(Path file) throws Exception {
            Process p = new ProcessBuilder("runuser", "-u", "nobody", "--", "cat", file.toString())
                    .redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "runuser finished");
            return new Result(p.exitValue(), output);
        }
    }
}
