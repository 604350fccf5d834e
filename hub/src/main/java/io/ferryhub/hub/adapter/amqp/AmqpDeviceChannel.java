package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.connection.DeviceLink;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;

import java.util.UUID;

/**
 * A device's request/response link pair on one node ({@code twin}, {@code methods/devicebound}, {@code streams}):
 * the device attaches a sender and a receiver to the same address, and the hub answers on the one what came on the
 * other, matched by the message's correlation id. Lives on the connection's event loop like the links it holds.
 */
abstract class AmqpDeviceChannel {
    final AmqpConnection connection;
    final AuthenticatedDevice device;
    final DeviceLink deviceLink;
    /** The device sends requests (twin) or answers (methods, streams) here. */
    Receiver fromDevice;
    /** The hub sends answers (twin) or requests (methods, streams) here. */
    Sender toDevice;

    AmqpDeviceChannel(AmqpConnection connection, AuthenticatedDevice device, DeviceLink deviceLink) {
        this.connection = connection;
        this.device = device;
        this.deviceLink = deviceLink;
    }

    /** Takes one of the pair; a second link of the same direction replaces the first, which is detached. */
    final void attached(Link link) {
        Link previous = link instanceof Receiver r ? swapReceiver(r) : swapSender((Sender) link);
        if (previous != null && previous.getLocalState() != EndpointState.CLOSED) {
            previous.setCondition(new ErrorCondition(AmqpErrors.STOLEN, "another link took this node"));
            connection.closeLink(previous);
        }
        if (fromDevice != null && toDevice != null) {
            opened();
        }
    }

    private Link swapReceiver(Receiver receiver) {
        Link previous = fromDevice;
        fromDevice = receiver;
        return previous;
    }

    private Link swapSender(Sender sender) {
        Link previous = toDevice;
        toDevice = sender;
        return previous;
    }

    /** Lets go of a link that detached; true when the channel holds no link any more. */
    final boolean detached(Link link) {
        boolean wasOpen = fromDevice != null && toDevice != null;
        if (link == fromDevice) {
            fromDevice = null;
        } else if (link == toDevice) {
            toDevice = null;
        } else {
            return fromDevice == null && toDevice == null;
        }
        if (wasOpen) {
            closed();
        }
        return fromDevice == null && toDevice == null;
    }

    /** Whether both links are attached and the hub's sending link is still up. */
    final boolean isOpen() {
        return fromDevice != null && toDevice != null && toDevice.getLocalState() == EndpointState.ACTIVE;
    }

    /** Both links are attached. */
    void opened() {
    }

    /** One of the links went away after both had been attached. */
    void closed() {
    }

    /** A complete message from the device on {@link #fromDevice}; the channel settles it. */
    abstract void onMessage(Delivery delivery, Message message);

    final String identity() {
        return device.clientId();
    }

    /** The uuid a device echoes as correlation id (as a uuid or its string form), or null when it is neither. */
    static UUID correlationUuid(Object correlationId) {
        if (correlationId instanceof UUID uuid) {
            return uuid;
        }
        try {
            return correlationId == null ? null : UUID.fromString(correlationId.toString());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
