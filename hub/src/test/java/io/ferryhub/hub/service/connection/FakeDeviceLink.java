package io.ferryhub.hub.service.connection;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.signaling.StreamRequestSink;

import java.util.Optional;

/**
 * A device link with no transport behind it, for the services' unit tests: it names its identity and remembers how
 * it was closed.
 */
public class FakeDeviceLink implements DeviceLink {
    public final String name;
    private final AuthenticatedDevice identity;
    private final String transport;
    public volatile HubErrorCode closedWith;
    /** For tests that wait for a link to become ready. */
    public volatile boolean ready;

    public FakeDeviceLink(String name, String deviceId, String moduleId, String transport) {
        this.name = name;
        this.identity = new AuthenticatedDevice(deviceId, moduleId, "sas", "1", Long.MAX_VALUE);
        this.transport = transport;
    }

    /** A device's link over a transport named "fake". */
    public FakeDeviceLink(String deviceId) {
        this(deviceId, deviceId, null, "fake");
    }

    @Override
    public AuthenticatedDevice identity() {
        return identity;
    }

    @Override
    public String transport() {
        return transport;
    }

    @Override
    public Optional<StreamRequestSink> streamRequests() {
        return Optional.empty();
    }

    @Override
    public void close(HubErrorCode reason) {
        closedWith = reason;
    }
}
