package io.ferryhub.hub.service.connection;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.signaling.StreamRequestSink;

import java.util.Optional;

/**
 * One live connection of a device or module, whatever its transport. Transports implement it; hub services use it
 * to reach the device (stream requests) and to cut it off.
 */
public interface DeviceLink {
    AuthenticatedDevice identity();

    /** {@code mqtt}, {@code mqtt-ws}, {@code amqp}...: for logs and the connection state. */
    String transport();

    /** Present while the device has subscribed to stream requests on this link. */
    Optional<StreamRequestSink> streamRequests();

    /** Closes the connection; {@code reason} goes to the log (and to the peer where the protocol can say it). */
    void close(HubErrorCode reason);
}
