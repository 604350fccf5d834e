package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.service.c2d.CloudToDeviceService;

import java.nio.file.Path;

/**
 * The MQTT endpoint with its durable event stream as a separate process, for tests that kill it with SIGKILL.
 * Arguments: the data directory, then {@code clientId=base64key} pairs. Prints one line
 * {@code READY {port} {certificate file}} once listening, then runs until killed.
 */
public final class ChildHubMain {
    private ChildHubMain() {
    }

    public static void main(String[] args) throws Exception {
        MqttTestHub hub = new MqttTestHub(CloudToDeviceService.Settings.DEFAULTS, Path.of(args[0]), false);
        for (int i = 1; i < args.length; i++) {
            String[] pair = args[i].split("=", 2);
            hub.keys.put(pair[0], pair[1]);
        }
        System.out.println("READY " + hub.port() + " " + hub.caFile().getAbsolutePath());
        System.out.flush();
        Thread.currentThread().join();
    }
}
