package io.ferryhub.hub.service.c2d;

/**
 * How a device that holds a pushed message's lock settles it other than by completing it. A transport fails the
 * {@link DeviceInbox#deliver} future with this (AMQP's rejected and released outcomes); any other failure means the
 * connection went away, which returns the message to the queue without re-offering it at once.
 */
public final class DeviceDisposition extends RuntimeException {
    private final boolean rejected;

    private DeviceDisposition(boolean rejected) {
        super(rejected ? "rejected by the device" : "abandoned by the device", null, false, false);
        this.rejected = rejected;
    }

    /** The device will never accept the message: it is removed, with negative feedback. */
    public static DeviceDisposition reject() {
        return new DeviceDisposition(true);
    }

    /** The device gives the message back: it is offered again. */
    public static DeviceDisposition abandon() {
        return new DeviceDisposition(false);
    }

    public boolean rejected() {
        return rejected;
    }
}
