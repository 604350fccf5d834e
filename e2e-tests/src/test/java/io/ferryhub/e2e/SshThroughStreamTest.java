package io.ferryhub.e2e;

import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A real SSH server (Apache MINA SSHD) behind the device proxy, a real SSH client through the service proxy: the
 * SSH handshake, a command, and SFTP transfers with SHA-256 compared, one big and several at once.
 */
class SshThroughStreamTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dataDir;
    @TempDir
    static Path sftpRoot;
    static StreamTestHub hub;
    static SshServer sshd;
    static SshClient ssh;
    static Proxies proxies;

    @BeforeAll
    static void start() throws Exception {
        hub = new StreamTestHub(dataDir);
        sshd = TestSshServer.start(dataDir.resolve("ssh-host-key"), sftpRoot, (channel, command) -> new Said(command));
        proxies = new Proxies(hub, "ssh-device", "ssh",
                Map.of("ssh", new InetSocketAddress("127.0.0.1", sshd.getPort())), false);
        ssh = SshClient.setUpDefaultClient();
        ssh.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        ssh.start();
    }

    @AfterAll
    static void stop() throws Exception {
        ssh.stop();
        proxies.close();
        sshd.stop(true);
        hub.close();
    }

    private static ClientSession login() throws Exception {
        ClientSession session = ssh.connect(TestSshServer.USER, "127.0.0.1", proxies.port()).verify(WAIT).getSession();
        session.addPasswordIdentity(TestSshServer.PASSWORD);
        session.auth().verify(WAIT);
        return session;
    }

    @Test
    void runsACommand() throws Exception {
        try (ClientSession session = login()) {
            assertEquals("ran: uname -a\n", session.executeRemoteCommand("uname -a"));
        }
        proxies.awaitIdle();
    }

    @Test
    void transfers100MegabytesOverSftpIntact() throws Exception {
        try (ClientSession session = login();
             SftpClient sftp = SftpClientFactory.instance().createSftpClient(session)) {
            String sent = upload(sftp, "big.bin", 100L * 1024 * 1024, 1);
            assertEquals(sent, sha256(Files.newInputStream(sftpRoot.resolve("big.bin"))));
            assertEquals(sent, sha256(sftp.read("/big.bin")));
        } finally {
            Files.deleteIfExists(sftpRoot.resolve("big.bin"));
        }
        proxies.awaitIdle();
    }

    @Test
    void severalSessionsAtOnce() throws Exception {
        List<CompletableFuture<Void>> sessions = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int n = i;
            sessions.add(CompletableFuture.runAsync(() -> {
                try (ClientSession session = login();
                     SftpClient sftp = SftpClientFactory.instance().createSftpClient(session)) {
                    assertEquals("ran: session " + n + "\n", session.executeRemoteCommand("session " + n));
                    String sent = upload(sftp, "file" + n + ".bin", 8L * 1024 * 1024, n);
                    assertEquals(sent, sha256(sftp.read("/file" + n + ".bin")));
                } catch (Exception e) {
                    throw new IllegalStateException("session " + n, e);
                }
            }));
        }
        CompletableFuture.allOf(sessions.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        proxies.awaitIdle();
    }

    /** Writes {@code size} pseudo-random bytes to a remote file; returns their SHA-256. */
    private static String upload(SftpClient sftp, String name, long size, long seed) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        Random random = new Random(seed);
        byte[] chunk = new byte[256 * 1024];
        try (OutputStream out = sftp.write("/" + name)) {
            for (long left = size; left > 0; ) {
                int n = (int) Math.min(chunk.length, left);
                random.nextBytes(chunk);
                digest.update(chunk, 0, n);
                out.write(chunk, 0, n);
                left -= n;
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static String sha256(InputStream in) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (DigestInputStream digesting = new DigestInputStream(in, digest)) {
            digesting.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** The remote "shell": answers any command with {@code ran: <command>} and exit status 0. */
    private static final class Said implements Command {
        private final String command;
        private OutputStream out;
        private ExitCallback exit;

        Said(String command) {
            this.command = command;
        }

        @Override
        public void setInputStream(InputStream in) {
        }

        @Override
        public void setOutputStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void setErrorStream(OutputStream err) {
        }

        @Override
        public void setExitCallback(ExitCallback callback) {
            this.exit = callback;
        }

        @Override
        public void start(ChannelSession channel, Environment env) throws IOException {
            out.write(("ran: " + command + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            exit.onExit(0);
        }

        @Override
        public void destroy(ChannelSession channel) {
        }
    }
}
