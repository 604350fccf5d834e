package io.ferryhub.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.gateway.StreamGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

/** {@link RevocationScenarios} through the hub's embedded streaming gateway. */
class RevocationTest extends RevocationScenarios {
    @TempDir
    static Path dataDir;
    @TempDir
    static Path sshDir;
    static StreamTestHub hub;
    static OpenSshd sshd;

    @BeforeAll
    static void start() throws Exception {
        sshd = OpenSshd.start(sshDir);
        hub = new StreamTestHub(dataDir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (hub != null) {
            hub.close();
        }
        if (sshd != null) {
            sshd.close();
        }
    }

    @Override
    StreamTestHub hub() {
        return hub;
    }

    @Override
    OpenSshd sshd() {
        return sshd;
    }

    @Override
    StreamGateway gateway() {
        return hub.hub.streamGateway();
    }

    @Override
    List<JsonNode> auditEvents(String deviceId, String opType) throws Exception {
        return hub.streamAuditEvents(deviceId, opType);
    }

    @Override
    long revocationMark() {
        return 0;
    }

    @Override
    void awaitRevocationAfter(long mark) {
        // the embedded gateway applies a revocation before the registry request returns
    }

    @Override
    String prefix() {
        return "embedded-";
    }
}
