package io.ferryhub.e2e;

import io.ferryhub.testsupport.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import java.time.Duration;

/**
 * Debian's OpenSSH end to end: an sshd on a loopback port behind the device proxy, {@code ssh} and {@code scp}
 * through the service proxy's port. Needs the openssh-server and openssh-client packages.
 */
class OpenSshThroughStreamTest {
    private static final Path SSHD = Path.of("/usr/sbin/sshd");
    private static final Path SSH = Path.of("/usr/bin/ssh");
    private static final Path SCP = Path.of("/usr/bin/scp");

    @TempDir
    static Path dataDir;
    @TempDir
    static Path sshDir;
    static StreamTestHub hub;
    static Proxies proxies;
    static Process sshd;

    @BeforeAll
    static void start() throws Exception {
        // the test command installs these (scripts/install-test-deps): missing tools are a failure, not a skip
        assertTrue(Files.isExecutable(SSHD) && Files.isExecutable(SSH) && Files.isExecutable(SCP),
                "OpenSSH is not installed: run scripts/install-test-deps");
        Path privsep = Path.of("/run/sshd");
        if (!Files.isDirectory(privsep)) {
            try {
                Files.createDirectories(privsep);
            } catch (IOException e) {
                throw new IllegalStateException("sshd needs " + privsep + " and it cannot be created: " + e.getMessage(), e);
            }
        }
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", sshDir.resolve("hostkey").toString()));
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", sshDir.resolve("key").toString()));
        Files.copy(sshDir.resolve("key.pub"), sshDir.resolve("authorized_keys"));
        int port = freePort();
        Files.writeString(sshDir.resolve("sshd_config"), String.join("\n",
                "Port " + port,
                "ListenAddress 127.0.0.1",
                "HostKey " + sshDir.resolve("hostkey"),
                "PidFile " + sshDir.resolve("sshd.pid"),
                "AuthorizedKeysFile " + sshDir.resolve("authorized_keys"),
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "MaxStartups 200",
                "MaxSessions 200",
                "Subsystem sftp internal-sftp",
                ""));
        // -D: stay in the foreground, so the test owns the process and ends it.
        sshd = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", sshDir.resolve("sshd_config").toString())
                .redirectErrorStream(true).redirectOutput(sshDir.resolve("sshd.log").toFile()).start();
        awaitListening(port);
        hub = new StreamTestHub(dataDir);
        proxies = new Proxies(hub, "openssh-device", "ssh", Map.of("ssh", new InetSocketAddress("127.0.0.1", port)),
                false);
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxies != null) {
            proxies.close();
        }
        if (hub != null) {
            hub.close();
        }
        if (sshd != null) {
            sshd.destroy();
            sshd.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static List<String> ssh(String... command) {
        List<String> args = new ArrayList<>(List.of(SSH.toString(), "-p", String.valueOf(proxies.port()),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "LogLevel=ERROR", "-i", sshDir.resolve("key").toString(),
                System.getProperty("user.name") + "@127.0.0.1"));
        args.addAll(List.of(command));
        return args;
    }

    @Test
    void sshRunsACommand() throws Exception {
        assertEquals("ok\n", run(ssh("echo", "ok")));
        proxies.awaitIdle();
    }

    @Test
    void scpCopiesALargeFileIntact() throws Exception {
        Path source = sshDir.resolve("large.bin");
        Path target = sshDir.resolve("copied.bin");
        Random random = new Random(7);
        byte[] chunk = new byte[1024 * 1024];
        try (OutputStream out = Files.newOutputStream(source)) {
            for (int i = 0; i < 64; i++) {
                random.nextBytes(chunk);
                out.write(chunk);
            }
        }
        run(List.of(SCP.toString(), "-P", String.valueOf(proxies.port()), "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
                "-i", sshDir.resolve("key").toString(), source.toString(),
                System.getProperty("user.name") + "@127.0.0.1:" + target));
        assertEquals(sha256(source), sha256(target));
        proxies.awaitIdle();
    }

    @Test
    void fiftyParallelSessions() throws Exception {
        List<Process> sessions = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            // The remote login shell's own chatter goes to stderr; only the command's output is compared.
            sessions.add(new ProcessBuilder(ssh("echo", "session-" + i))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start());
        }
        for (int i = 0; i < sessions.size(); i++) {
            Process p = sessions.get(i);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(true, p.waitFor(120, TimeUnit.SECONDS), "session " + i + " did not end");
            assertEquals("session-" + i + "\n", out, "session " + i + " (exit " + p.exitValue() + ")");
            assertEquals(0, p.exitValue());
        }
        proxies.awaitIdle();
    }

    private static String run(List<String> command) throws Exception {
        Path errors = Files.createTempFile(sshDir, "stderr", ".txt");
        Process p = new ProcessBuilder(command).redirectError(errors.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " failed: " + out + Files.readString(errors));
        }
        return out;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void awaitListening(int port) throws Exception {
        Await.until("sshd listening on " + port, Duration.ofSeconds(30), () -> {
            try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return true;
            } catch (IOException notYet) {
                if (!sshd.isAlive()) {
                    throw new AssertionError("sshd exited: " + Files.readString(sshDir.resolve("sshd.log")));
                }
                return false;
            }
        });
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
