package io.ferryhub.e2e;

import io.ferryhub.testsupport.Await;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's OpenSSH sshd on a loopback port, owned by the test (foreground, ended at close), and interactive
 * {@code ssh} sessions to it through a proxy port. Needs the openssh-server and openssh-client packages.
 */
final class OpenSshd implements AutoCloseable {
    private static final Path SSHD = Path.of("/usr/sbin/sshd");
    private static final Path SSH = Path.of("/usr/bin/ssh");

    final int port;
    private final Path dir;
    private final Process process;

    private OpenSshd(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    static OpenSshd start(Path dir) throws Exception {
        assertTrue(Files.isExecutable(SSHD) && Files.isExecutable(SSH),
                "OpenSSH is not installed: run scripts/install-test-deps");
        Path privsep = Path.of("/run/sshd");
        if (!Files.isDirectory(privsep)) {
            Files.createDirectories(privsep);
        }
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("hostkey").toString()));
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("key").toString()));
        Files.copy(dir.resolve("key.pub"), dir.resolve("authorized_keys"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Files.writeString(dir.resolve("sshd_config"), String.join("\n",
                "Port " + port,
                "ListenAddress 127.0.0.1",
                "HostKey " + dir.resolve("hostkey"),
                "PidFile " + dir.resolve("sshd.pid"),
                "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "MaxStartups 200",
                "MaxSessions 200",
                ""));
        Process p = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", dir.resolve("sshd_config").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("sshd.log").toFile()).start();
        OpenSshd sshd = new OpenSshd(dir, port, p);
        boolean listening = Await.within(java.time.Duration.ofSeconds(30), () -> {
            try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return true;
            } catch (IOException notYet) {
                if (!p.isAlive()) {
                    throw new AssertionError("sshd exited: " + Files.readString(dir.resolve("sshd.log")));
                }
                return false;
            }
        });
        if (!listening) {
            throw new AssertionError("sshd did not listen on " + port);
        }
        return sshd;
    }

    /**
     * An interactive ssh session through {@code proxyPort}: it has printed "ready" (so it is logged in and its
     * shell runs) and then waits on its input, which stays open until the session is closed from outside.
     */
    Session interactive(int proxyPort) throws Exception {
        List<String> args = new ArrayList<>(List.of(SSH.toString(), "-p", String.valueOf(proxyPort),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "LogLevel=ERROR", "-i", dir.resolve("key").toString(),
                System.getProperty("user.name") + "@127.0.0.1", "echo ready; exec cat"));
        Process p = new ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Session s = new Session(p);
        s.awaitReady();
        return s;
    }

    /** An ssh client process; {@link #exitedAtNanos} is set by a thread that waits for it. */
    static final class Session implements AutoCloseable {
        final Process process;
        private volatile long exitedAt;

        Session(Process process) {
            this.process = process;
            Thread waiter = new Thread(() -> {
                try {
                    process.waitFor();
                    exitedAt = System.nanoTime();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "ssh-exit-waiter");
            waiter.setDaemon(true);
            waiter.start();
        }

        private void awaitReady() throws Exception {
            InputStream in = process.getInputStream();
            byte[] expected = "ready\n".getBytes(StandardCharsets.US_ASCII);
            byte[] got = in.readNBytes(expected.length);
            if (!new String(got, StandardCharsets.US_ASCII).equals("ready\n")) {
                process.destroyForcibly();
                throw new AssertionError("ssh did not log in (read '" + new String(got, StandardCharsets.US_ASCII)
                        + "', exit " + (process.isAlive() ? "none yet" : process.exitValue()) + ")");
            }
        }

        /** The session still works: a line typed comes back (from the remote cat). */
        void assertEchoes(String line) throws Exception {
            byte[] back;
            try {
                process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
                process.getOutputStream().flush();
                back = process.getInputStream().readNBytes(line.length() + 1);
            } catch (IOException e) {
                throw new AssertionError("ssh session closed before echoing '" + line + "': " + e.getMessage(), e);
            }
            if (!new String(back, StandardCharsets.US_ASCII).equals(line + "\n")) {
                throw new AssertionError("ssh session did not echo '" + line + "': got '"
                        + new String(back, StandardCharsets.US_ASCII) + "'");
            }
        }

        boolean exited() {
            return exitedAt != 0;
        }

        /** When the process exited (System.nanoTime), once it has; 0 before. */
        long exitedAtNanos() {
            return exitedAt;
        }

        /** Waits (polling) until the process has exited, at most {@code limit}. */
        void awaitExit(Duration limit) throws InterruptedException {
            Proxies.await(this::exited, "the ssh session is still open after " + limit.toMillis() + " ms", limit);
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    private static void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed: " + out);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
