package io.ferryhub.hub.adapter.mqtt;

import java.nio.file.Path;

/**
 * A hub as a separate process, for tests that kill it with SIGKILL. Arguments: the data directory, then the
 * device ids to register. Prints {@code READY {mqtt port} {CA file}}, then one {@code KEY {device} {key}} line per
 * device, then runs until killed.
 */
public final class ChildHubMain {
    private ChildHubMain() {
    }

    public static void main(String[] args) throws Exception {
        MqttTestHub hub = new MqttTestHub(Path.of(args[0]), false);
        System.out.println("READY " + hub.port() + " " + hub.caFile().getAbsolutePath());
        for (int i = 1; i < args.length; i++) {
            System.out.println("KEY " + args[i] + " " + hub.register(args[i]));
        }
        System.out.flush();
        Thread.currentThread().join();
    }
}
