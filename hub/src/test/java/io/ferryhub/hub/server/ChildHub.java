package io.ferryhub.hub.server;

import java.nio.file.Path;

/**
 * A complete hub in its own process, for tests that kill it with SIGKILL. Argument: the data directory. Prints
 * {@code READY {httpsPort} {mqttPort}} once listening, then runs until killed.
 */
public final class ChildHub {
    private ChildHub() {
    }

    public static void main(String[] args) throws Exception {
        HubServer hub = HubServer.start(HubConfig.ephemeral(Path.of(args[0])));
        System.out.println("READY " + hub.httpsPort() + " " + hub.mqttPort());
        System.out.flush();
        Thread.currentThread().join();
    }
}
