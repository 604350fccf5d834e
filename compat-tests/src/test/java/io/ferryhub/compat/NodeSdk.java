package io.ferryhub.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs one of the scenario scripts in {@code compat-tests/node} (the official Node.js SDKs, installed by
 * {@code scripts/install-test-deps}) as a child process with a deadline, and answers the JSON line it printed last.
 * The scripts trust the hub's CA through {@code NODE_EXTRA_CA_CERTS}, as an operator's Node.js application would.
 */
final class NodeSdk {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long DEADLINE_SECONDS = 120; // the scripts give up on their own after 90 s

    private final Path scripts;
    private final String serviceConnectionString;
    private final Path caCertificate;

    NodeSdk(String serviceConnectionString, Path caCertificate) {
        this.scripts = Path.of(System.getProperty("user.dir")).toAbsolutePath().resolve("node");
        this.serviceConnectionString = serviceConnectionString;
        this.caCertificate = caCertificate;
        assertTrue(Files.isDirectory(scripts.resolve("node_modules/azure-iot-device")),
                "the Node.js SDKs are not installed in " + scripts + ": run scripts/install-test-deps");
    }

    /** Runs {@code node <scenario>.js <transport> <deviceId>}; fails with its output unless it answered ok. */
    JsonNode run(String scenario, String transport, String deviceId) throws Exception {
        List<String> command = new ArrayList<>(List.of("node", scenario + ".js", transport, deviceId));
        ProcessBuilder builder = new ProcessBuilder(command).directory(scripts.toFile());
        builder.environment().put("IOTHUB_CONNECTION_STRING", serviceConnectionString);
        builder.environment().put("NODE_EXTRA_CA_CERTS", caCertificate.toString());
        Process process = builder.start();
        process.getOutputStream().close();
        Drain stdout = new Drain(process.getInputStream());
        Drain stderr = new Drain(process.getErrorStream());
        if (!process.waitFor(DEADLINE_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail(command + " did not finish in " + DEADLINE_SECONDS + " s\nstdout:\n" + stdout.text()
                    + "\nstderr:\n" + stderr.text());
        }
        stdout.join();
        stderr.join();
        String out = stdout.text().strip();
        String last = out.substring(out.lastIndexOf('\n') + 1);
        JsonNode result;
        try {
            result = JSON.readTree(last);
        } catch (IOException e) {
            result = null;
        }
        if (result == null || !result.path("ok").asBoolean(false) || process.exitValue() != 0) {
            fail(command + " failed (exit " + process.exitValue() + ")\nstdout:\n" + out + "\nstderr:\n"
                    + stderr.text());
        }
        return result;
    }

    /** Reads a child's stream to its end on a thread of its own, so a full pipe never blocks the child. */
    private static final class Drain extends Thread {
        private final InputStream in;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Drain(InputStream in) {
            this.in = in;
            setDaemon(true);
            start();
        }

        @Override
        public void run() {
            try (in) {
                in.transferTo(bytes);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
