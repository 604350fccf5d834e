package io.ferryhub.e2e;

import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.command.CommandFactory;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A real SSH server (Apache MINA SSHD) on an ephemeral loopback port, as the target behind a device proxy: password
 * login {@value #USER}/{@value #PASSWORD} and SFTP into {@code sftpRoot}.
 */
final class TestSshServer {
    static final String USER = "operator";
    static final String PASSWORD = "s3cret";

    private TestSshServer() {
    }

    /** @param commands what {@code exec} requests run; null for none */
    static SshServer start(Path hostKey, Path sftpRoot, CommandFactory commands) throws IOException {
        SshServer sshd = SshServer.setUpDefaultServer();
        sshd.setHost("127.0.0.1");
        sshd.setPort(0);
        sshd.setKeyPairProvider(new SimpleGeneratorHostKeyProvider(hostKey));
        sshd.setPasswordAuthenticator((user, password, session) -> USER.equals(user) && PASSWORD.equals(password));
        if (commands != null) {
            sshd.setCommandFactory(commands);
        }
        sshd.setSubsystemFactories(List.of(new SftpSubsystemFactory()));
        sshd.setFileSystemFactory(new VirtualFileSystemFactory(sftpRoot));
        sshd.start();
        return sshd;
    }
}
